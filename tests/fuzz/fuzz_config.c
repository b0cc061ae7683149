/* fuzz_config.c -- the configuration loader: the YAML parser, the schema
 * checks, ${VAR} expansion, every value's parser (sizes, numbers, regions,
 * endpoints) and the per-source settings, then each source's user_id
 * applied to the shipped rules as `sourcegate` does at start-up.
 *
 * The input is read from a buffer (gw_config_load_buffer): nothing on disk.
 * ${FUZZ_VAR} and ${FUZZ_SECRET} are set; anything else is unset.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#include "config.h"
#include "diag.h"
#include "fuzz_common.h"
#include "log.h"
#include "mapping/mapping.h"
#include "mem.h"

#define MAX_RULES 32

static bool ready;
/* The shipped rules files, kept in memory: one is compiled afresh for each
 * source whose user_id the input sets. */
static struct {
    char *name;
    char *text;
    size_t len;
} shipped[MAX_RULES];
static size_t n_shipped;

static void load_shipped(void)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_ruleset *rs = NULL;
    char *dir = fuzz_root_path("rules");
    if (gw_rules_load_dir(dir, &rs, d) != GW_OK) {
        gw_diag_print(d, stderr);
        fprintf(stderr, "fuzz_config: cannot load the shipped rules from %s (set GW_SOURCE_ROOT)\n",
                dir);
        abort();
    }
    for (size_t i = 0; i < gw_ruleset_count(rs) && n_shipped < MAX_RULES; i++) {
        const struct gw_source *src = gw_ruleset_at(rs, i);
        size_t len = 0;
        char *text = fuzz_read_file(gw_source_file(src), &len);
        if (text == NULL) {
            fprintf(stderr, "fuzz_config: cannot read %s\n", gw_source_file(src));
            abort();
        }
        shipped[n_shipped].name = gw_strdup(gw_source_name(src));
        shipped[n_shipped].text = text;
        shipped[n_shipped++].len = len;
    }
    free(dir);
    gw_ruleset_destroy(rs);
    gw_diag_destroy(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    gw_log_set_level(GW_LOG_OFF);
    setenv("FUZZ_VAR", "https://example.com/v1", 1);
    setenv("FUZZ_SECRET", "s3cret", 1);
    load_shipped();
    ready = true;
    return 0;
}

/* Compiles the shipped file of source alone and applies user_id to it. */
static void apply_user_id(const struct gw_source_conf *sc)
{
    for (size_t i = 0; i < n_shipped; i++) {
        if (strcmp(shipped[i].name, sc->name) != 0) {
            continue;
        }
        struct gw_ruleset *rs = gw_ruleset_create();
        struct gw_diag *d = gw_diag_create();
        if (gw_rules_add_buffer(rs, shipped[i].text, shipped[i].len, shipped[i].name, d) !=
            GW_OK) {
            abort(); /* the shipped file compiled at start */
        }
        if (gw_source_set_user_id(rs, sc->name, sc->user_id, d) != GW_OK &&
            gw_diag_errors(d) == 0) {
            abort(); /* a refused user_id must say why */
        }
        char *msgs = gw_diag_join(d);
        free(msgs);
        gw_diag_destroy(d);
        gw_ruleset_destroy(rs);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    struct gw_config c;
    gw_config_init(&c);
    struct gw_diag *d = gw_diag_create();
    enum gw_rc rc = gw_config_load_buffer(&c, (const char *)data, size, "fuzz.yaml", d);
    char *msgs = gw_diag_join(d);
    if (rc != GW_OK && gw_diag_errors(d) == 0) {
        abort(); /* a refused file must say why */
    }
    free(msgs);
    gw_diag_destroy(d);
    if (rc == GW_OK) {
        for (size_t i = 0; i < c.n_sources; i++) {
            if (gw_config_source(&c, c.sources[i].name) == NULL ||
                gw_config_endpoint(&c, c.sources[i].name) == NULL) {
                abort();
            }
            if (c.sources[i].user_id != NULL) {
                apply_user_id(&c.sources[i]);
            }
        }
    }
    gw_config_fini(&c);
    return 0;
}

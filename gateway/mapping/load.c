/* load.c -- read rules files into a ruleset: one source per file, names
 * unique, everything checked before anything is used.
 * SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../diag.h"
#include "../json.h"
#include "../mem.h"
#include "../yaml.h"
#include "rule.h"

struct gw_ruleset *gw_ruleset_create(void)
{
    gw_json_digest_init(); /* the messageId digests: prepared once, not per request */
    return gw_calloc(1, sizeof(struct gw_ruleset));
}

void gw_ruleset_destroy(struct gw_ruleset *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->n; i++) {
        gw_source_free(rs->sources[i]);
    }
    free(rs->sources);
    free(rs);
}

static enum gw_rc add_doc(struct gw_ruleset *rs, const struct gw_doc *doc, struct gw_diag *diag)
{
    if (doc->root == NULL) {
        gw_diag_error_at(diag, doc->file, 0, 0, "the rules file is empty");
        return GW_ERR_INVALID;
    }
    struct gw_source *src = gw_compile_source(doc->root, diag);
    if (src == NULL) {
        return GW_ERR_INVALID;
    }
    const struct gw_source *prev = gw_ruleset_find(rs, src->name);
    if (prev != NULL) {
        const struct gw_node *at = gw_node_get(doc->root, "source");
        gw_diag_error(diag, at, "duplicate source '%s': already defined in %s", src->name,
                      prev->file);
        gw_source_free(src);
        return GW_ERR_INVALID;
    }
    rs->sources = gw_realloc(rs->sources, (rs->n + 1) * sizeof(*rs->sources));
    rs->sources[rs->n++] = src;
    return GW_OK;
}

enum gw_rc gw_rules_add_buffer(struct gw_ruleset *rs, const char *buf, size_t len,
                               const char *name, struct gw_diag *diag)
{
    struct gw_doc *doc = NULL;
    enum gw_rc rc = gw_yaml_parse(buf, len, name, &doc, diag);
    if (rc == GW_OK) {
        rc = add_doc(rs, doc, diag);
    }
    gw_yaml_free(doc);
    return rc;
}

static enum gw_rc add_file(struct gw_ruleset *rs, const char *path, struct gw_diag *diag)
{
    struct gw_doc *doc = NULL;
    enum gw_rc rc = gw_yaml_parse_file(path, &doc, diag);
    if (rc == GW_OK) {
        rc = add_doc(rs, doc, diag);
    }
    gw_yaml_free(doc);
    return rc;
}

static bool is_rules_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && ((n > 5 && strcasecmp(name + n - 5, ".yaml") == 0) ||
                              (n > 4 && strcasecmp(name + n - 4, ".yml") == 0));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum gw_rc add_dir(struct gw_ruleset *rs, const char *dir, struct gw_diag *diag)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        gw_diag_error_at(diag, dir, 0, 0, "cannot read the rules directory: %s", strerror(errno));
        return GW_ERR_IO;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (is_rules_name(e->d_name)) {
            names = gw_realloc(names, (n + 1) * sizeof(*names));
            names[n++] = gw_asprintf("%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    enum gw_rc rc = GW_OK;
    for (size_t i = 0; i < n; i++) {
        if (add_file(rs, names[i], diag) != GW_OK) {
            rc = GW_ERR_INVALID; /* go on: report every file's problems at once */
        }
        free(names[i]);
    }
    free(names);
    if (rc == GW_OK && n == 0) {
        gw_diag_error_at(diag, dir, 0, 0, "no rules files (*.yaml) in this directory");
        rc = GW_ERR_INVALID;
    }
    return rc;
}

enum gw_rc gw_rules_load_paths(const char *const *paths, size_t n, struct gw_ruleset **out,
                               struct gw_diag *diag)
{
    struct gw_ruleset *rs = gw_ruleset_create();
    enum gw_rc rc = GW_OK;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        enum gw_rc one;
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            one = add_dir(rs, paths[i], diag);
        } else {
            one = add_file(rs, paths[i], diag);
        }
        if (one != GW_OK && rc == GW_OK) {
            rc = one;
        }
    }
    if (rc != GW_OK) {
        gw_ruleset_destroy(rs);
        return rc;
    }
    *out = rs;
    return GW_OK;
}

enum gw_rc gw_rules_load_dir(const char *dir, struct gw_ruleset **out, struct gw_diag *diag)
{
    return gw_rules_load_paths(&dir, 1, out, diag);
}

size_t gw_ruleset_count(const struct gw_ruleset *rs)
{
    return rs->n;
}

const struct gw_source *gw_ruleset_at(const struct gw_ruleset *rs, size_t i)
{
    return i < rs->n ? rs->sources[i] : NULL;
}

const struct gw_source *gw_ruleset_find(const struct gw_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->sources[i]->name, name) == 0) {
            return rs->sources[i];
        }
    }
    return NULL;
}

enum gw_rc gw_source_set_user_id(struct gw_ruleset *rs, const char *source,
                                 const struct gw_node *value, struct gw_diag *diag)
{
    struct gw_source *src = NULL;
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->sources[i]->name, source) == 0) {
            src = rs->sources[i];
        }
    }
    if (src == NULL) {
        return GW_ERR_NOT_FOUND;
    }
    struct gw_value v;
    if (!gw_compile_value(value, "'user_id'", &v, diag)) {
        gw_value_fini(&v);
        return GW_ERR_INVALID;
    }
    for (size_t i = 0; i < src->n_common; i++) {
        if (src->common[i].root == GW_TGT_USER_ID) {
            gw_value_fini(&src->common[i].value);
            src->common[i].value = v;
            return GW_OK;
        }
    }
    src->common = gw_realloc(src->common, (src->n_common + 1) * sizeof(*src->common));
    struct gw_target *t = &src->common[src->n_common++];
    *t = (struct gw_target){.root = GW_TGT_USER_ID, .value = v, .line = value->line,
                            .col = value->col};
    gw_target_set_field(t, gw_strdup("userId"));
    return GW_OK;
}

const char *gw_source_name(const struct gw_source *src)
{
    return src->name;
}

const char *gw_source_file(const struct gw_source *src)
{
    return src->file;
}

const char *gw_source_json_field(const struct gw_source *src)
{
    return src->json_field;
}

const char *gw_source_signature(const struct gw_source *src)
{
    return src->signature;
}

enum gw_body_kind gw_source_body(const struct gw_source *src)
{
    return src->body;
}

const struct gw_spec_opts *gw_source_spec(const struct gw_source *src)
{
    return &src->spec;
}

bool gw_source_accepts(const struct gw_source *src, const char *content_type)
{
    if (content_type == NULL || content_type[0] == '\0') {
        return true;
    }
    size_t n = strcspn(content_type, "; \t");
    for (size_t i = 0; i < src->n_content_types; i++) {
        const char *ct = src->content_types[i];
        if (strlen(ct) == n && strncasecmp(ct, content_type, n) == 0) {
            return true;
        }
    }
    return false;
}

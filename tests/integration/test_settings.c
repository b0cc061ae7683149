/* test_settings.c -- the settings table seen from the real binary: a file
 * giving every key served, reloaded and stopped; --help and the README's
 * tables written from the table.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_test.h"
#include "mem.h"
#include "settings.h"

static struct gwt_proc proc;

static void cleanup(void)
{
    if (proc.pid > 0) {
        gwt_proc_stop(&proc, SIGKILL, 5000);
    }
}

static char *every_key(void)
{
    char *rules = gwt_root_path("rules");
    setenv("GWT_EVERY_RULES", rules, 1);
    free(rules);
    return gwt_data_path("config/ok/every_key.yaml");
}

/* Polls the daemon's log for text: 10 s in 50 ms steps. */
static bool log_has(const char *text)
{
    for (int i = 0; i < 200; i++) {
        char *log = gwt_proc_log(&proc);
        bool found = strstr(log, text) != NULL;
        free(log);
        if (found) {
            return true;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

Test(settings, lint_takes_a_file_with_every_key, .timeout = 30)
{
    char *path = every_key();
    const char *argv[] = {"lint", "--config", path, NULL};
    char *out = NULL, *err = NULL;
    cr_expect_eq(gwt_run(argv, &out, &err), 0, "%s", err);
    cr_expect_neq(strstr(out, "configuration OK"), NULL, "%s", out);
    cr_expect_eq(strstr(err, "every-secret"), NULL, "a secret reached the output: %s", err);
    cr_expect_eq(strstr(err, "every-admin-token"), NULL, "the admin token reached the output: %s",
                 err);
    free(out);
    free(err);
    free(path);
}

Test(settings, serve_every_key_reload_and_stop, .fini = cleanup, .timeout = 60)
{
    char *path = every_key();
    const char *argv[] = {"serve", "--config", path, NULL};
    cr_assert(gwt_proc_start(&proc, argv), "the daemon did not start on every_key.yaml");
    cr_expect(log_has("(dry run: nothing is relayed)"), "dry_run: true from the file");
    kill(proc.pid, SIGHUP);
    cr_expect(log_has("SIGHUP: reloaded"), "no reload line");
    cr_expect_eq(gwt_proc_stop(&proc, SIGTERM, 15000), 0, "SIGTERM after SIGHUP exits 0");
    char *log = gwt_proc_log(&proc);
    cr_expect_neq(strstr(log, "\"msg\":\"stopped\""), NULL, "%s", log);
    cr_expect_eq(strstr(log, "wk_every"), NULL, "a write key reached the log");
    cr_expect_eq(strstr(log, "every-secret"), NULL, "a secret reached the log");
    cr_expect_eq(strstr(log, "every-admin-token"), NULL, "the admin token reached the log");
    free(log);
    free(path);
}

Test(settings, help_lists_every_flag_of_the_table, .timeout = 30)
{
    const char *argv[] = {"--help", NULL};
    char *out = NULL;
    cr_assert_eq(gwt_run(argv, &out, NULL), 0);
    for (size_t i = 0; i < gw_settings_count; i++) {
        const struct gw_setting *s = &gw_settings[i];
        if (s->flag == NULL) {
            continue;
        }
        char *flag = gw_asprintf("  --%s", s->flag);
        cr_expect_neq(strstr(out, flag), NULL, "--help lacks %s", flag);
        free(flag);
    }
    cr_expect_neq(strstr(out, "(default: 512KiB)"), NULL, "%s", out);
    free(out);
}

/* README.md holds the blocks `sourcegate docs --settings` prints, as they
 * are today. */
Test(settings, readme_tables_are_current, .timeout = 30)
{
    const char *argv[] = {"docs", "--settings", NULL};
    char *out = NULL;
    cr_assert_eq(gwt_run(argv, &out, NULL), 0);
    char *readme = gwt_read_root("README.md", NULL);
    int blocks = 0;
    for (const char *at = strstr(out, "<!-- settings:"); at; at = strstr(at, "<!-- settings:")) {
        const char *end = strstr(at, "<!-- /settings:");
        cr_assert_not_null(end);
        end = strchr(end, '\n');
        cr_assert_not_null(end);
        char *block = gw_strndup(at, (size_t)(end + 1 - at));
        cr_expect_neq(strstr(readme, block), NULL,
                      "README.md's copy is stale: run tools/readme-settings.sh\n%s", block);
        free(block);
        blocks++;
        at = end;
    }
    cr_expect_eq(blocks, 3);
    cr_expect_neq(strstr(out, "| `--max-body SIZE` | `SOURCEGATE_MAX_BODY` | `512KiB` |"), NULL,
                  "%s", out);
    free(readme);
    free(out);
}

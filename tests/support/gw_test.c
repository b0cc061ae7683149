/* gw_test.c -- shared test helpers (see gw_test.h).
 * SPDX-License-Identifier: MIT */
#include "gw_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "mapping/mapping.h"
#include "mem.h"
#include "relay/relay.h"
#include "server.h"
#include "spool/spool.h"

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : dflt;
}

char *gwt_data_path(const char *rel)
{
    return gw_asprintf("%s/%s", env_or("GW_TEST_DATA", GW_TEST_DATA), rel);
}

char *gwt_root_path(const char *rel)
{
    return gw_asprintf("%s/%s", env_or("GW_SOURCE_ROOT", GW_SOURCE_ROOT), rel);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    struct gw_buf b;
    gw_buf_init(&b, 256u << 20);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        GW_ASSERT(gw_buf_add(&b, chunk, n) == GW_OK);
    }
    fclose(f);
    if (len != NULL) {
        *len = b.len;
    }
    return gw_buf_detach(&b);
}

char *gwt_read(const char *rel, size_t *len)
{
    char *path = gwt_data_path(rel);
    char *s = slurp(path, len);
    cr_assert_not_null(s, "cannot read test data %s: %s", path, strerror(errno));
    free(path);
    return s;
}

char *gwt_read_root(const char *rel, size_t *len)
{
    char *path = gwt_root_path(rel);
    char *s = slurp(path, len);
    cr_assert_not_null(s, "cannot read %s: %s", path, strerror(errno));
    free(path);
    return s;
}

struct gw_ruleset *gwt_load_shipped(void)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_ruleset *rs = NULL;
    char *dir = gwt_root_path("rules");
    cr_assert_eq(gw_rules_load_dir(dir, &rs, d), GW_OK, "%s", gw_diag_join(d));
    free(dir);
    gw_diag_destroy(d);
    return rs;
}

struct gw_ruleset *gwt_load_inline(const char *yaml)
{
    struct gw_diag *d = gw_diag_create();
    struct gw_ruleset *rs = gw_ruleset_create();
    cr_assert_eq(gw_rules_add_buffer(rs, yaml, strlen(yaml), "inline.yaml", d), GW_OK, "%s",
                 gw_diag_join(d));
    gw_diag_destroy(d);
    return rs;
}

struct gwt_gateway *gwt_gateway_start(const struct gwt_opts *o)
{
    struct gwt_gateway *g = gw_calloc(1, sizeof(*g));
    gw_config_init(&g->cfg);
    struct gw_diag *d = gw_diag_create();
    if (o->config != NULL) {
        char *path = gwt_data_path(o->config);
        cr_assert_eq(gw_config_load_file(&g->cfg, path, d), GW_OK, "config: %s", gw_diag_join(d));
        free(path);
    }
    char *rules = o->rules ? gwt_data_path(o->rules) : gwt_root_path("rules");
    cr_assert_eq(gw_rules_load_dir(rules, &g->rules, d), GW_OK, "rules: %s", gw_diag_join(d));
    free(rules);
    for (size_t i = 0; i < g->cfg.n_sources; i++) {
        const struct gw_source_conf *sc = &g->cfg.sources[i];
        if (sc->user_id != NULL) {
            cr_assert_eq(gw_source_set_user_id(g->rules, sc->name, sc->user_id, d), GW_OK);
        }
    }
    gw_diag_destroy(d);
    if (o->write_key != NULL) {
        g->cfg.sources = gw_realloc(g->cfg.sources, (g->cfg.n_sources + 1) * sizeof(*g->cfg.sources));
        g->cfg.sources[g->cfg.n_sources++] = (struct gw_source_conf){
            .name = gw_strdup("sendgrid"), .write_key = gw_strdup(o->write_key)};
    }
    if (o->endpoint != NULL) {
        free(g->cfg.endpoint);
        g->cfg.endpoint = gw_strdup(o->endpoint);
        snprintf(g->spool_dir, sizeof(g->spool_dir), "/tmp/gwtest-spool-XXXXXX");
        cr_assert_not_null(mkdtemp(g->spool_dir));
        struct gw_spool_opts sp;
        gw_spool_opts_init(&sp);
        sp.dir = g->spool_dir;
        char err[256];
        cr_assert_eq(gw_spool_open(&sp, &g->spool, err, sizeof(err)), GW_OK, "%s", err);
        struct gw_relay_opts ro;
        gw_relay_opts_init(&ro);
        ro.flush_ms = o->flush_ms ? o->flush_ms : 50;
        ro.max_rps = o->max_rps > 0 ? o->max_rps : ro.max_rps;
        g->relay = gw_relay_create(&ro, g->spool);
        cr_assert_eq(gw_relay_start(g->relay), GW_OK);
    } else {
        g->cfg.dry_run = true;
    }
    gw_ingest_init(&g->ing, &g->cfg, g->rules); /* once the configuration is final */
    g->ing.spool = g->spool;
    g->ing.relay = g->relay;
    struct gw_server_opts so;
    gw_server_opts_init(&so);
    so.listen = "127.0.0.1:0";
    so.threads = 2;
    so.max_body = o->max_body ? o->max_body : g->cfg.max_body;
    cr_assert_eq(gw_server_start(&so, &g->ing, &g->srv), GW_OK);
    snprintf(g->base, sizeof(g->base), "http://127.0.0.1:%u", (unsigned)gw_server_port(g->srv));
    return g;
}

void gwt_gateway_stop(struct gwt_gateway *g)
{
    if (g == NULL) {
        return;
    }
    gw_server_quiesce(g->srv);
    gw_server_drain(g->srv, 5000);
    gw_server_stop(g->srv);
    if (g->relay != NULL) {
        gw_relay_stop(g->relay, 2000);
        gw_relay_destroy(g->relay);
    }
    gw_spool_close(g->spool);
    if (g->spool_dir[0] != '\0') {
        char *cmd = gw_asprintf("rm -rf '%s'", g->spool_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot remove %s\n", g->spool_dir);
        }
        free(cmd);
    }
    gw_ingest_fini(&g->ing);
    gw_ruleset_destroy(g->rules);
    gw_config_fini(&g->cfg);
    free(g);
}

char *gwt_url(const struct gwt_gateway *g, const char *path)
{
    return gw_asprintf("%s%s", g->base, path);
}

static pid_t spawn(const char *const *argv, int out_fd, int err_fd)
{
    const char *bin = env_or("SOURCEGATE_BIN", "build/gateway/sourcegate");
    size_t n = 0;
    while (argv[n] != NULL) {
        n++;
    }
    char **args = gw_calloc(n + 2, sizeof(char *));
    args[0] = (char *)bin;
    for (size_t i = 0; i < n; i++) {
        args[i + 1] = (char *)argv[i];
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(bin, args);
        _exit(127);
    }
    free(args);
    return pid;
}

static int temp_file(char *path, size_t len, const char *tag)
{
    snprintf(path, len, "/tmp/gwtest-%s-XXXXXX", tag);
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
    return fd;
}

char *gwt_proc_log(const struct gwt_proc *p)
{
    char *s = slurp(p->log, NULL);
    return s ? s : gw_strdup("");
}

bool gwt_proc_start(struct gwt_proc *p, const char *const *argv)
{
    memset(p, 0, sizeof(*p));
    int fd = temp_file(p->log, sizeof(p->log), "log");
    int devnull = open("/dev/null", O_WRONLY);
    p->pid = spawn(argv, devnull, fd);
    close(fd);
    close(devnull);
    for (int i = 0; i < 200; i++) { /* 10 s, 50 ms steps */
        char *log = gwt_proc_log(p);
        const char *at = strstr(log, "listening on ");
        const char *with = at ? strstr(at, " with ") : NULL;
        if (with != NULL) {
            const char *colon = with;
            while (colon > at && *colon != ':') {
                colon--;
            }
            p->port = (unsigned)strtoul(colon + 1, NULL, 10);
            free(log);
            return p->port != 0;
        }
        free(log);
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            return false;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

int gwt_proc_stop(struct gwt_proc *p, int sig, unsigned timeout_ms)
{
    if (p->pid <= 0) {
        return -1;
    }
    kill(p->pid, sig);
    for (unsigned waited = 0; waited <= timeout_ms; waited += 20) {
        int st = 0;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return -1;
}

int gwt_run(const char *const *argv, char **out, char **err)
{
    char opath[256], epath[256];
    int ofd = temp_file(opath, sizeof(opath), "out");
    int efd = temp_file(epath, sizeof(epath), "err");
    pid_t pid = spawn(argv, ofd, efd);
    close(ofd);
    close(efd);
    int st = 0;
    waitpid(pid, &st, 0);
    if (out != NULL) {
        *out = slurp(opath, NULL);
    }
    if (err != NULL) {
        *err = slurp(epath, NULL);
    }
    unlink(opath);
    unlink(epath);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* driver.c -- runs a fuzz harness without libFuzzer: LLVMFuzzerInitialize
 * once (when the harness has one), then LLVMFuzzerTestOneInput over every
 * file named on the command line, a directory standing for the files in it
 * (recursively, in name order, dot files skipped). Each input is an exact-
 * size heap copy, so that a sanitizer build catches reads past its end.
 * Exits 0 after the last input; a harness that finds a bug aborts.
 * Options of libFuzzer ("-runs=...") are ignored, for scripts that pass them.
 * SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t runs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "driver: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                free(buf);
            }
            buf = bigger;
        }
    }
    int err = ferror(f) || buf == NULL;
    fclose(f);
    if (err) {
        free(buf);
        fprintf(stderr, "driver: cannot read %s\n", path);
        return 1;
    }
    unsigned char *exact = malloc(n ? n : 1);
    if (exact == NULL) {
        free(buf);
        return 1;
    }
    if (n > 0) {
        memcpy(exact, buf, n);
    }
    free(buf);
    if (getenv("FUZZ_DRIVER_VERBOSE") != NULL) {
        fprintf(stderr, "driver: %s (%zu bytes)\n", path, n);
    }
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    runs++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "driver: no such file or directory: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "driver: cannot read directory %s\n", path);
        return 1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char **more = realloc(names, (n + 1) * sizeof(*names));
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(len);
        if (more == NULL || full == NULL) {
            free(more != NULL ? more : names);
            free(full);
            closedir(d);
            return 1;
        }
        names = more;
        snprintf(full, len, "%s/%s", path, e->d_name);
        names[n++] = full;
    }
    closedir(d);
    if (n > 1) {
        qsort(names, n, sizeof(*names), cmp_names);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= run_path(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    int rc = 0, paths = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            continue;
        }
        paths++;
        rc |= run_path(argv[i]);
    }
    if (paths == 0) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    printf("%s: %zu inputs run\n", argv[0], runs);
    return rc;
}

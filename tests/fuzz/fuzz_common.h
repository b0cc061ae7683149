/* fuzz_common.h -- what the libFuzzer harnesses of tests/fuzz share: the
 * entry points, the source root, and the "header block" some inputs start
 * with.
 *
 * A header block is "Name: value" lines ended by an empty line; the rest of
 * the input is the body. An input that starts with an empty line has no
 * headers; one without an empty line anywhere is all body. Names starting
 * with ':' are pseudo-headers the harness reads itself (":url", ":now",
 * ":user", ...); names starting with '?' are query parameters.
 * SPDX-License-Identifier: MIT */
#ifndef GW_FUZZ_COMMON_H
#define GW_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_MAX_HEADERS 64

struct fuzz_headers {
    char *text; /* owned copy of the block, cut in place */
    const char *name[FUZZ_MAX_HEADERS];
    const char *value[FUZZ_MAX_HEADERS];
    size_t n;
    const char *body; /* borrowed from the input */
    size_t len;
};

/* Splits data into headers and body; release with fuzz_headers_fini. */
void fuzz_headers_parse(struct fuzz_headers *h, const char *data, size_t size);
void fuzz_headers_fini(struct fuzz_headers *h);

/* Header callback (case-insensitive, first wins); arg is a struct fuzz_headers. */
const char *fuzz_header_cb(void *arg, const char *name);
/* Query callback: the lines named "?name". */
const char *fuzz_query_cb(void *arg, const char *name);

/* The source tree: $GW_SOURCE_ROOT, else the compiled-in GW_SOURCE_ROOT.
 * Returns new "<root>/<rel>". */
char *fuzz_root_path(const char *rel);

/* Reads a whole file; returns new NUL-terminated bytes and *len, or NULL. */
char *fuzz_read_file(const char *path, size_t *len);

/* Returns a new NUL-terminated copy of n bytes. */
char *fuzz_strndup(const char *p, size_t n);

/* The secret of tests/data/signing for scheme (static); "fuzz-secret" for
 * a scheme without a vector. */
const char *fuzz_test_secret(const char *scheme);

#endif

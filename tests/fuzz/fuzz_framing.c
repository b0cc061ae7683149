/* fuzz_framing.c -- gw_framing_check: Content-Length and Transfer-Encoding
 * as strict as nginx, from headers as libmicrohttpd hands them over.
 *
 * Input: one flag byte, then a header block (fuzz_common.h).
 *   bits 0-1  the request's version: HTTP/1.1, HTTP/1.0, HTTP/2.0, empty
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "framing.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const versions[] = {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", ""};
    if (size < 1) {
        return 0;
    }
    const char *version = versions[data[0] & 3];
    struct fuzz_headers h;
    fuzz_headers_parse(&h, (const char *)data + 1, size - 1);
    struct gw_framing f;
    gw_framing_check(version, h.name, h.value, h.n, &f);
    size_t n_te = 0, n_cl = 0;
    for (size_t i = 0; i < h.n; i++) {
        n_te += strcasecmp(h.name[i], "Transfer-Encoding") == 0;
        n_cl += strcasecmp(h.name[i], "Content-Length") == 0;
    }
    /* the contract: a verdict with its reason; a sound request has one
     * framing at most, and one of each header at most */
    if (f.status != 0 && f.status != 400 && f.status != 501) {
        abort();
    }
    if ((f.status != 0) != (f.message != NULL)) {
        abort();
    }
    if (f.status == 0 && (n_te > 1 || n_cl > 1 || (n_te == 1 && n_cl == 1) ||
                          f.chunked != (n_te == 1) || f.has_length != (n_cl == 1) ||
                          (f.chunked && strcmp(version, "HTTP/1.1") != 0))) {
        abort();
    }
    if (f.has_length && f.length >= 1000000000000000000ull) {
        abort();
    }
    fuzz_headers_fini(&h);
    return 0;
}

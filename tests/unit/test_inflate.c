/* test_inflate.c -- gzip and deflate bodies: zlib's own compressor on one
 * side, gw_inflate on the other; bombs stop at the cap.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "buf.h"
#include "inflate.h"

#define GZIP_BITS (16 + MAX_WBITS)
#define ZLIB_BITS MAX_WBITS
#define RAW_BITS (-MAX_WBITS)

/* Compresses n bytes with zlib into out (window_bits picks the framing);
 * when zeros > 0 the input is that many zero bytes instead, made 64 KiB at a
 * time so that the test itself never holds the inflated size. */
static void pack(int window_bits, const void *in, size_t n, size_t zeros, struct gw_buf *out)
{
    static const unsigned char zero[65536];
    unsigned char step[16384];
    z_stream zs = {0};
    cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t left = zeros > 0 ? zeros : n;
    do {
        size_t take = zeros > 0 ? (left < sizeof(zero) ? left : sizeof(zero)) : left;
        zs.next_in = (unsigned char *)(zeros > 0 ? zero : in);
        zs.avail_in = (uInt)take;
        left -= take;
        int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        int zrc;
        do {
            zs.next_out = step;
            zs.avail_out = sizeof(step);
            zrc = deflate(&zs, flush);
            cr_assert(zrc == Z_OK || zrc == Z_STREAM_END || zrc == Z_BUF_ERROR);
            cr_assert_eq(gw_buf_add(out, step, sizeof(step) - zs.avail_out), GW_OK);
        } while (zs.avail_out == 0);
        if (flush == Z_FINISH) {
            cr_assert_eq(zrc, Z_STREAM_END);
        }
    } while (left > 0);
    deflateEnd(&zs);
}

/* A JSON batch of about n bytes, varied enough not to compress to nothing. */
static char *batch(size_t n)
{
    struct gw_buf b;
    gw_buf_init(&b, n + 256);
    cr_assert_eq(gw_buf_adds(&b, "{\"batch\":["), GW_OK);
    for (unsigned i = 0; b.len < n; i++) {
        cr_assert_eq(gw_buf_printf(&b,
                                   "%s{\"type\":\"track\",\"event\":\"Order Completed\","
                                   "\"userId\":\"u-%u\",\"properties\":{\"revenue\":%u.%02u}}",
                                   i ? "," : "", i * 7919u % 100003u, i % 997u, i % 100u),
                     GW_OK);
    }
    cr_assert_eq(gw_buf_adds(&b, "]}"), GW_OK);
    return gw_buf_detach(&b);
}

static void round_trip(const char *coding, int window_bits, size_t chunk)
{
    char *body = batch(200000);
    size_t n = strlen(body);
    struct gw_buf packed, out;
    gw_buf_init(&packed, SIZE_MAX / 2);
    gw_buf_init(&out, 512 * 1024);
    pack(window_bits, body, n, 0, &packed);
    cr_assert_lt(packed.len, n / 4, "the body really was compressed");

    struct gw_inflate *z = NULL;
    cr_assert_eq(gw_inflate_create(coding, &z), GW_OK);
    for (size_t off = 0; off < packed.len; off += chunk) {
        size_t take = packed.len - off < chunk ? packed.len - off : chunk;
        cr_assert_eq(gw_inflate_feed(z, packed.ptr + off, take, &out), GW_OK, "at %zu", off);
    }
    cr_assert_eq(gw_inflate_finish(z), GW_OK);
    cr_assert_eq(out.len, n);
    cr_assert(memcmp(out.ptr, body, n) == 0, "%s in chunks of %zu gives the body back", coding,
              chunk);
    gw_inflate_destroy(z);
    gw_buf_fini(&packed);
    gw_buf_fini(&out);
    free(body);
}

Test(inflate, gzip_round_trip)
{
    round_trip("gzip", GZIP_BITS, SIZE_MAX);
    round_trip("gzip", GZIP_BITS, 1000);
}

Test(inflate, zlib_wrapped_deflate_round_trip)
{
    round_trip("deflate", ZLIB_BITS, SIZE_MAX);
    round_trip("deflate", ZLIB_BITS, 1);

    /* zlib's one-call compress(), as a server library would use it */
    char *body = batch(50000);
    uLong n = (uLong)strlen(body);
    uLongf packed_len = compressBound(n);
    unsigned char *packed = malloc(packed_len);
    cr_assert_eq(compress(packed, &packed_len, (const Bytef *)body, n), Z_OK);
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    cr_assert_eq(gw_inflate_all("deflate", packed, packed_len, &out), GW_OK);
    cr_assert_eq(out.len, n);
    cr_expect(memcmp(out.ptr, body, n) == 0);
    gw_buf_fini(&out);
    free(packed);
    free(body);
}

Test(inflate, raw_deflate_round_trip)
{
    round_trip("deflate", RAW_BITS, SIZE_MAX);
    round_trip("deflate", RAW_BITS, 1);
}

Test(inflate, coding_names)
{
    round_trip("x-gzip", GZIP_BITS, SIZE_MAX);
    round_trip(" GZip\t", GZIP_BITS, 4096);
    round_trip("Deflate", RAW_BITS, 7);
    struct gw_inflate *z = NULL;
    const char *refused[] = {"br", "compress", "zstd", "gzip, br", "gzip,identity", "gzipx"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cr_expect_eq(gw_inflate_create(refused[i], &z), GW_ERR_UNSUPPORTED, "%s", refused[i]);
        cr_expect_null(z);
    }
}

Test(inflate, identity_copies_within_the_cap)
{
    const char *names[] = {NULL, "", "identity", " IDENTITY "};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct gw_buf out;
        gw_buf_init(&out, 5);
        cr_expect_eq(gw_inflate_all(names[i], "{}", 2, &out), GW_OK);
        cr_expect_str_eq(gw_buf_str(&out), "{}");
        cr_expect_eq(gw_inflate_all(names[i], "1234", 4, &out), GW_ERR_TOO_LARGE);
        gw_buf_fini(&out);
    }
}

/* 10 MB of zeros is about 10 KB of gzip: refused at a 512 KiB cap after a
 * few hundred bytes of input, holding no more than the cap. */
Test(inflate, bomb_refused_at_the_cap_with_bounded_memory)
{
    const size_t cap = 512 * 1024;
    const char *codings[] = {"gzip", "deflate"};
    const int bits[] = {GZIP_BITS, ZLIB_BITS};
    for (size_t k = 0; k < 2; k++) {
        struct gw_buf bomb, out;
        gw_buf_init(&bomb, SIZE_MAX / 2);
        gw_buf_init(&out, cap);
        pack(bits[k], NULL, 0, 10 * 1024 * 1024, &bomb);
        cr_assert_lt(bomb.len, 64 * 1024, "small on the wire: %zu", bomb.len);

        struct rusage before, after;
        getrusage(RUSAGE_SELF, &before);
        struct gw_inflate *z = NULL;
        cr_assert_eq(gw_inflate_create(codings[k], &z), GW_OK);
        enum gw_rc rc = GW_OK;
        size_t off = 0;
        for (; off < bomb.len && rc == GW_OK; off += 64) {
            size_t take = bomb.len - off < 64 ? bomb.len - off : 64;
            rc = gw_inflate_feed(z, bomb.ptr + off, take, &out);
        }
        getrusage(RUSAGE_SELF, &after);
        cr_expect_eq(rc, GW_ERR_TOO_LARGE, "%s bomb refused", codings[k]);
        cr_expect_lt(off, bomb.len / 4, "stopped at %zu of %zu input bytes", off, bomb.len);
        cr_expect_leq(out.len, cap);
        cr_expect_leq(out.cap, 2 * cap + 1, "the buffer stays within the cap");
        cr_expect_lt(after.ru_maxrss - before.ru_maxrss, 8 * 1024, "peak grew %ld KiB",
                     after.ru_maxrss - before.ru_maxrss);
        cr_expect_eq(gw_inflate_feed(z, "x", 1, &out), GW_ERR_TOO_LARGE, "the error sticks");
        cr_expect_eq(gw_inflate_finish(z), GW_ERR_TOO_LARGE);
        gw_inflate_destroy(z);
        gw_buf_fini(&bomb);
        gw_buf_fini(&out);
    }
}

Test(inflate, cap_is_on_the_inflated_size_exactly)
{
    char body[1000];
    memset(body, 'a', sizeof(body));
    struct gw_buf packed, out;
    gw_buf_init(&packed, 1 << 20);
    pack(GZIP_BITS, body, sizeof(body), 0, &packed);
    gw_buf_init(&out, sizeof(body));
    cr_expect_eq(gw_inflate_all("gzip", packed.ptr, packed.len, &out), GW_OK);
    cr_expect_eq(out.len, sizeof(body));
    gw_buf_fini(&out);
    gw_buf_init(&out, sizeof(body) - 1);
    cr_expect_eq(gw_inflate_all("gzip", packed.ptr, packed.len, &out), GW_ERR_TOO_LARGE);
    gw_buf_fini(&out);
    gw_buf_fini(&packed);
}

Test(inflate, truncated_streams_are_invalid)
{
    const char *body = "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u-1\"}";
    const char *codings[] = {"gzip", "deflate", "deflate"};
    const int bits[] = {GZIP_BITS, ZLIB_BITS, RAW_BITS};
    for (size_t k = 0; k < 3; k++) {
        struct gw_buf packed;
        gw_buf_init(&packed, 1 << 20);
        pack(bits[k], body, strlen(body), 0, &packed);
        /* cut inside the data, and (zlib, gzip) in the trailing checksum */
        size_t cuts[] = {packed.len / 2, packed.len - 1, 1};
        for (size_t c = 0; c < 3; c++) {
            struct gw_buf out;
            gw_buf_init(&out, 1 << 20);
            cr_expect_eq(gw_inflate_all(codings[k], packed.ptr, cuts[c], &out), GW_ERR_INVALID,
                         "%s (bits %d) cut at %zu of %zu", codings[k], bits[k], cuts[c],
                         packed.len);
            gw_buf_fini(&out);
        }
        gw_buf_fini(&packed);
    }
    struct gw_buf out;
    gw_buf_init(&out, 100);
    cr_expect_eq(gw_inflate_all("gzip", "", 0, &out), GW_ERR_INVALID, "an empty gzip body");
    cr_expect_eq(gw_inflate_all("deflate", "", 0, &out), GW_ERR_INVALID, "an empty deflate body");
    gw_buf_fini(&out);
}

Test(inflate, corrupt_streams_are_invalid)
{
    char *body = batch(4000);
    struct gw_buf gz, zl, out;
    gw_buf_init(&gz, 1 << 20);
    gw_buf_init(&zl, 1 << 20);
    gw_buf_init(&out, 1 << 20);
    pack(GZIP_BITS, body, strlen(body), 0, &gz);
    pack(ZLIB_BITS, body, strlen(body), 0, &zl);

    gz.ptr[gz.len - 6] ^= 0x55; /* the CRC-32 */
    cr_expect_eq(gw_inflate_all("gzip", gz.ptr, gz.len, &out), GW_ERR_INVALID, "bad CRC");
    gz.ptr[gz.len - 6] ^= 0x55;
    gz.ptr[0] = 0x1e; /* the magic */
    gw_buf_reset(&out);
    cr_expect_eq(gw_inflate_all("gzip", gz.ptr, gz.len, &out), GW_ERR_INVALID, "bad magic");
    zl.ptr[zl.len - 2] ^= 0x01; /* the Adler-32 */
    gw_buf_reset(&out);
    cr_expect_eq(gw_inflate_all("deflate", zl.ptr, zl.len, &out), GW_ERR_INVALID, "bad Adler");
    zl.ptr[zl.len - 2] ^= 0x01;
    gw_buf_reset(&out);
    cr_expect_eq(gw_inflate_all("gzip", zl.ptr, zl.len, &out), GW_ERR_INVALID, "zlib sent as gzip");
    gw_buf_reset(&out);
    cr_expect_eq(gw_inflate_all("deflate", body, strlen(body), &out), GW_ERR_INVALID,
                 "plain JSON sent as deflate");
    gw_buf_reset(&out);
    cr_expect_eq(gw_inflate_all("gzip", body, strlen(body), &out), GW_ERR_INVALID,
                 "plain JSON sent as gzip");
    gw_buf_fini(&gz);
    gw_buf_fini(&zl);
    gw_buf_fini(&out);
    free(body);
}

Test(inflate, two_gzip_members_are_one_body)
{
    struct gw_buf packed, out;
    gw_buf_init(&packed, 1 << 20);
    gw_buf_init(&out, 1 << 20);
    const char *a = "{\"batch\":[{\"type\":\"track\",";
    const char *b = "\"event\":\"Order Completed\",\"userId\":\"u-1\"}]}";
    pack(GZIP_BITS, a, strlen(a), 0, &packed);
    size_t first = packed.len;
    pack(GZIP_BITS, b, strlen(b), 0, &packed);
    cr_expect_eq(gw_inflate_all("gzip", packed.ptr, packed.len, &out), GW_OK);
    cr_expect_eq(out.len, strlen(a) + strlen(b));
    cr_expect(strncmp(gw_buf_str(&out), a, strlen(a)) == 0);
    cr_expect_str_eq(gw_buf_str(&out) + strlen(a), b);

    /* fed so that one chunk ends inside the first member's trailer */
    struct gw_inflate *z = NULL;
    gw_buf_reset(&out);
    cr_assert_eq(gw_inflate_create("gzip", &z), GW_OK);
    cr_expect_eq(gw_inflate_feed(z, packed.ptr, first - 3, &out), GW_OK);
    cr_expect_eq(gw_inflate_feed(z, packed.ptr + first - 3, 5, &out), GW_OK);
    cr_expect_eq(gw_inflate_feed(z, packed.ptr + first + 2, packed.len - first - 2, &out), GW_OK);
    cr_expect_eq(gw_inflate_finish(z), GW_OK);
    cr_expect_eq(out.len, strlen(a) + strlen(b));
    gw_inflate_destroy(z);

    /* the second member cut short */
    gw_buf_reset(&out);
    cr_expect_eq(gw_inflate_all("gzip", packed.ptr, packed.len - 5, &out), GW_ERR_INVALID);
    gw_buf_fini(&packed);
    gw_buf_fini(&out);
}

Test(inflate, bytes_after_the_end_are_invalid)
{
    const char *body = "{\"type\":\"identify\",\"userId\":\"u-1\"}";
    const int bits[] = {ZLIB_BITS, RAW_BITS, GZIP_BITS};
    const char *codings[] = {"deflate", "deflate", "gzip"};
    for (size_t k = 0; k < 3; k++) {
        struct gw_buf packed, out;
        gw_buf_init(&packed, 1 << 20);
        gw_buf_init(&out, 1 << 20);
        pack(bits[k], body, strlen(body), 0, &packed);
        cr_assert_eq(gw_buf_adds(&packed, "garbage!"), GW_OK);
        cr_expect_eq(gw_inflate_all(codings[k], packed.ptr, packed.len, &out), GW_ERR_INVALID,
                     "%s (bits %d) with trailing bytes", codings[k], bits[k]);
        gw_buf_fini(&packed);
        gw_buf_fini(&out);
    }
}

Test(inflate, destroy_null_is_a_no_op)
{
    gw_inflate_destroy(NULL);
}

/* A body as the server reads it: created on its first piece, fed piece by
 * piece, finished; a coding sent with no body, or one not taken, refused. */
Test(inflate, body_piece_by_piece)
{
    static const char text[] = "{\"batch\":[{\"type\":\"track\",\"event\":\"A Happened\"}]}";
    struct gw_buf packed, out;
    gw_buf_init(&packed, 1u << 20);
    gw_buf_init(&out, 1u << 20);
    pack(GZIP_BITS, text, sizeof(text) - 1, 0, &packed);
    struct gw_inflate *z = NULL;
    for (size_t at = 0; at < packed.len; at += 7) {
        size_t n = packed.len - at < 7 ? packed.len - at : 7;
        cr_assert_eq(gw_inflate_body_feed(&z, "gzip", gw_buf_str(&packed) + at, n, &out), GW_OK);
    }
    cr_expect_eq(gw_inflate_body_finish(&z, "gzip"), GW_OK);
    cr_expect_eq(out.len, sizeof(text) - 1);
    cr_expect_eq(memcmp(gw_buf_str(&out), text, out.len), 0);
    gw_inflate_destroy(z);
    z = NULL;
    cr_expect_eq(gw_inflate_body_finish(&z, "gzip"), GW_ERR_INVALID, "gzip with no body");
    gw_inflate_destroy(z);
    z = NULL;
    cr_expect_eq(gw_inflate_body_finish(&z, NULL), GW_OK, "no coding, no body");
    gw_inflate_destroy(z);
    z = NULL;
    cr_expect_eq(gw_inflate_body_feed(&z, "br", text, 3, &out), GW_ERR_UNSUPPORTED);
    cr_expect_null(z);
    gw_buf_fini(&packed);
    gw_buf_fini(&out);
}

/* format.h -- internal to gateway/spec/: string formats the Spec asks of
 * some fields.
 * SPDX-License-Identifier: MIT */
#ifndef GW_SPEC_FORMAT_H
#define GW_SPEC_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

/* Lowercase letters, digits and hyphens; no hyphen at either end. */
bool gw_format_slug(const char *s);

/* MAJOR.MINOR.PATCH[-pre.release][+build], as semver.org 2.0.0 says. */
bool gw_format_semver(const char *s);

/* The characters of the UTF-8 string s. */
size_t gw_format_utf8_chars(const char *s);

#endif

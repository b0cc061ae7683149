/* runner_lsan.h -- keeps LeakSanitizer out of criterion's runner. The
 * criterion 2.4.1 runner (the parent process, which runs none of our code)
 * loses a few 48-byte blocks when it runs tests two at a time, which fails
 * sanitizer builds. Report hooks run in that process only; the test
 * processes keep leak checking. Included once per test executable.
 * SPDX-License-Identifier: MIT */
#ifndef RUNNER_LSAN_H
#define RUNNER_LSAN_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>

extern void __lsan_disable(void) __attribute__((weak));

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    if (__lsan_disable != NULL) {
        __lsan_disable();
    }
}

#endif

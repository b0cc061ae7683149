/* thread.c -- names for the daemon's own threads.
 * SPDX-License-Identifier: MIT */
#include "thread.h"

#include <pthread.h>

void gw_thread_name(const char *name)
{
    (void)pthread_setname_np(pthread_self(), name);
}

/* thread.c -- background threads named and lowered in priority.
 * SPDX-License-Identifier: MIT */
#include "thread.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux schedules threads alone: the nice value of one thread id is its
 * own. 10 gives it about a tenth of the CPU when a request thread wants
 * the core too. */
#define BACKGROUND_NICE 10

void gw_thread_background(const char *name)
{
    pthread_setname_np(pthread_self(), name);
    id_t tid = (id_t)syscall(SYS_gettid);
    int now = getpriority(PRIO_PROCESS, tid);
    /* best effort: a thread that keeps its priority only shares the core
     * less politely */
    (void)setpriority(PRIO_PROCESS, tid, now + BACKGROUND_NICE > 19 ? 19 : now + BACKGROUND_NICE);
}

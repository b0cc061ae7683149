/* thread.h -- what a background thread says of itself.
 * SPDX-License-Identifier: MIT */
#ifndef GW_THREAD_H
#define GW_THREAD_H

/* Called first by a thread that works behind the requests (the relay's
 * sender, the spool's checkpointer): names it (top -H, perf) and lowers
 * its scheduling priority, so that on a busy core a request waiting for
 * the CPU runs before it instead of after its time slice. It still runs
 * whenever requests leave the core idle. name: at most 15 characters. */
void gw_thread_background(const char *name);

#endif

/* thread.h -- what the daemon's own threads say of themselves to the OS.
 * SPDX-License-Identifier: MIT */
#ifndef GW_THREAD_H
#define GW_THREAD_H

/* Names the calling thread, as `top -H`, `ps -L` and
 * /proc/PID/task/TID/comm show it (15 characters at most). */
void gw_thread_name(const char *name);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef MB_CANCEL_H
#define MB_CANCEL_H

/* Process-wide cancellation of waits and network I/O, so that `serve`
 * ends within a bounded time even in the middle of a refresh: the
 * token endpoint's transfer is aborted (http.c checks mb_cancelled()
 * from libcurl's progress callback) and back-off sleeps wake at once.
 * A transfer whose reply has fully arrived is not interrupted: what the
 * provider handed out is still persisted. */

#include <stdbool.h>

/* From now on mb_cancelled() is true and every mb_cancel_sleep()
 * returns early.  Async-signal-safe is not required: serve calls it from
 * its main loop.  Thread-safe. */
void mb_cancel_all(void);
/* true after mb_cancel_all().  Thread-safe, lock-free. */
bool mb_cancelled(void);
/* Sleeps up to seconds on CLOCK_MONOTONIC; returns 0 after the full
 * time, -1 at once or early when cancelled. */
int mb_cancel_sleep(long seconds);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef MB_REFRESH_POOL_H
#define MB_REFRESH_POOL_H

/* The threads that run serve's refreshes beside its event loop: a small
 * bounded pool (MB_POOL_MAX threads, started as work arrives) that takes
 * work items from a queue, runs them (they may block: a token endpoint, a
 * file lock), and hands them back through a list and an eventfd that the
 * loop watches.  Only the loop thread calls these functions; run() is the
 * only code that executes in a worker. */

#include <stdbool.h>

/* Refreshes of different accounts at the same time; more wait in the
 * queue (each account has at most one queued or running: the cache's
 * single-flight rule). */
#define MB_POOL_MAX	4

struct mb_pool_work {
	struct mb_pool_work *next;	/* the pool's */
	/* Runs in a worker thread; must touch only what the item owns. */
	void (*run)(struct mb_pool_work *w);
};

struct mb_pool;

/* NULL (logged) if the eventfd cannot be made or memory is short. */
struct mb_pool *mb_pool_new(void);
/* Readable when finished work waits for mb_pool_take_done(). */
int mb_pool_fd(const struct mb_pool *p);
/* Queues w (owned by the caller, who gets it back from
 * mb_pool_take_done()).  false (logged) if no worker could be started
 * and none runs, or the pool is stopping: w was not queued. */
bool mb_pool_submit(struct mb_pool *p, struct mb_pool_work *w);
/* The finished items, oldest first (a list through next); NULL if none.
 * Also clears the eventfd. */
struct mb_pool_work *mb_pool_take_done(struct mb_pool *p);
/* Stops taking work: returns the items that were queued but never
 * started (a list, for the caller to release); those running go on. */
struct mb_pool_work *mb_pool_stop(struct mb_pool *p);
/* Items still running. */
unsigned mb_pool_running(struct mb_pool *p);
/* After mb_pool_stop() and once mb_pool_running() is 0: joins the
 * threads and frees the pool; *p becomes NULL.  NULL-safe. */
void mb_pool_free(struct mb_pool **p);

#endif

/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "cancel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static atomic_bool cancelled;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
cancel_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &a);
	pthread_condattr_destroy(&a);
}

void
mb_cancel_all(void)
{
	pthread_once(&once, cancel_init);
	pthread_mutex_lock(&mu);
	atomic_store(&cancelled, true);
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
}

bool
mb_cancelled(void)
{
	return atomic_load(&cancelled);
}

int
mb_cancel_sleep(long seconds)
{
	struct timespec until;
	int rc = 0;

	pthread_once(&once, cancel_init);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&mu);
	while (!atomic_load(&cancelled)) {
		if (pthread_cond_timedwait(&cond, &mu, &until) != 0)
			break;
	}
	if (atomic_load(&cancelled))
		rc = -1;
	pthread_mutex_unlock(&mu);
	return rc;
}

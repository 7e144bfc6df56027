/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "refresh-pool.h"

#include "errtext.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* p->mu guards everything below it; no worker holds it while running an
 * item, and the loop never waits on it for longer than a list update. */
struct mb_pool {
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cond;		/* work queued, or stopping */
	struct mb_pool_work *queue, **queue_tail;
	struct mb_pool_work *done, **done_tail;
	pthread_t threads[MB_POOL_MAX];
	unsigned n_threads;
	unsigned idle;
	unsigned queued;		/* in the queue, not yet taken */
	unsigned running;		/* queued or running, not yet done */
	bool stopping;
};

static void *
worker(void *arg)
{
	struct mb_pool *p = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct mb_pool_work *w;

		while (p->queue == NULL && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->cond, &p->mu);
			p->idle--;
		}
		if (p->queue == NULL)
			break;
		w = p->queue;
		p->queue = w->next;
		p->queued--;
		if (p->queue == NULL)
			p->queue_tail = &p->queue;
		pthread_mutex_unlock(&p->mu);
		w->next = NULL;
		w->run(w);
		pthread_mutex_lock(&p->mu);
		*p->done_tail = w;
		p->done_tail = &w->next;
		p->running--;
		/* the loop reads the eventfd; a full counter cannot happen
		 * with at most one write per finished item */
		(void)!write(p->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct mb_pool *
mb_pool_new(void)
{
	struct mb_pool *p = mb_xcalloc(1, sizeof(*p));

	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		mb_log(LOG_ERR, "eventfd: %s", mb_errstr(errno));
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->queue_tail = &p->queue;
	p->done_tail = &p->done;
	return p;
}

int
mb_pool_fd(const struct mb_pool *p)
{
	return p->efd;
}

/* p->mu held: a new thread unless an idle one is there for every queued
 * item, and the limit allows. */
static void
pool_grow(struct mb_pool *p)
{
	pthread_attr_t attr;
	int rc;

	if (p->idle > p->queued || p->n_threads >= MB_POOL_MAX)
		return;
	pthread_attr_init(&attr);
	/* libcurl and a TLS handshake need far less */
	pthread_attr_setstacksize(&attr, 512 * 1024);
	rc = pthread_create(&p->threads[p->n_threads], &attr, worker, p);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		mb_log(LOG_ERR, "cannot start a refresh thread: %s",
		       mb_errstr(rc));
		return;
	}
	p->n_threads++;
}

bool
mb_pool_submit(struct mb_pool *p, struct mb_pool_work *w)
{
	bool ok;

	pthread_mutex_lock(&p->mu);
	if (!p->stopping)
		pool_grow(p);
	ok = !p->stopping && p->n_threads > 0;
	if (ok) {
		w->next = NULL;
		*p->queue_tail = w;
		p->queue_tail = &w->next;
		p->queued++;
		p->running++;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

struct mb_pool_work *
mb_pool_take_done(struct mb_pool *p)
{
	struct mb_pool_work *list;
	uint64_t v;

	(void)!read(p->efd, &v, sizeof(v));
	pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = NULL;
	p->done_tail = &p->done;
	pthread_mutex_unlock(&p->mu);
	return list;
}

struct mb_pool_work *
mb_pool_stop(struct mb_pool *p)
{
	struct mb_pool_work *list;

	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	list = p->queue;
	for (struct mb_pool_work *w = list; w != NULL; w = w->next)
		p->running--;
	p->queue = NULL;
	p->queue_tail = &p->queue;
	p->queued = 0;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	return list;
}

unsigned
mb_pool_running(struct mb_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->mu);
	n = p->running;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
mb_pool_free(struct mb_pool **pp)
{
	struct mb_pool *p = *pp;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	close(p->efd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
	free(p);
	*pp = NULL;
}

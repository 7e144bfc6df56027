/*
 * Driver of tests/test-leak-cancel.sh: runs mb_refresh() for ACCOUNT of
 * CONFIG (whose token endpoint the test has made hang or ask for a
 * Retry-After; the refresh token sent is a dummy) in a thread, calls
 * mb_cancel_all() after CANCEL_MS, and prints one line:
 *
 *	result=N elapsed_ms=N message=TEXT
 *
 * where elapsed_ms runs from the cancellation to the end of mb_refresh(),
 * or "still-running" when it has not ended WAIT_MS after the
 * cancellation (the process then ends without waiting for it).
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tokenhelper/cancel.h"
#include "tokenhelper/conf.h"
#include "tokenhelper/http.h"
#include "tokenhelper/refresh.h"

struct job {
	const struct mb_account *acct;
	const char *refresh_token;
	struct mb_refresh_out out;
	enum mb_refresh_result result;
	struct timespec done_at;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int done;
};

static void *
job_run(void *arg)
{
	struct job *j = arg;
	enum mb_refresh_result r;

	r = mb_refresh(j->acct, j->refresh_token, 3, 10, &j->out);
	pthread_mutex_lock(&j->mu);
	j->result = r;
	clock_gettime(CLOCK_MONOTONIC, &j->done_at);
	j->done = 1;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

int
main(int argc, char **argv)
{
	struct mb_config *cfg = NULL;
	struct timespec cancelled_at, until;
	pthread_condattr_t ca;
	pthread_t th;
	struct job j;
	char *err = NULL;
	long wait_ms;

	if (argc != 5) {
		fprintf(stderr, "usage: %s CONFIG ACCOUNT CANCEL_MS WAIT_MS\n",
			argv[0]);
		return 64;
	}
	if (mb_http_global_init() < 0)
		return 71;
	if (mb_config_load(argv[1], &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 78;
	}
	memset(&j, 0, sizeof(j));
	j.acct = mb_config_account(cfg, argv[2]);
	/* The endpoint's fault answers before looking at it. */
	j.refresh_token = "mbrt-cancel-test-not-a-real-token";
	if (j.acct == NULL)
		return 67;
	pthread_mutex_init(&j.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j.cond, &ca);
	if (pthread_create(&th, NULL, job_run, &j) != 0)
		return 71;
	usleep((useconds_t)atol(argv[3]) * 1000);
	clock_gettime(CLOCK_MONOTONIC, &cancelled_at);
	mb_cancel_all();
	wait_ms = atol(argv[4]);
	until = cancelled_at;
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&j.mu);
	while (!j.done) {
		if (pthread_cond_timedwait(&j.cond, &j.mu, &until) != 0)
			break;
	}
	if (!j.done) {
		printf("still-running\n");
		fflush(stdout);
		_exit(0);
	}
	pthread_mutex_unlock(&j.mu);
	pthread_join(th, NULL);
	printf("result=%d elapsed_ms=%ld message=%s\n", (int)j.result,
	       ms_between(&cancelled_at, &j.done_at),
	       j.out.message ? j.out.message : "-");
	mb_refresh_out_clear(&j.out);
	mb_config_free(&cfg);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Benchmark driver: full XOAUTH2 (or OAUTHBEARER) client exchanges through
 * the real libsasl2, which loads libmailbearer.so through SASL_PATH:
 * sasl_client_new, sasl_client_start (initial response), sasl_client_step
 * with the server's empty "success" message, sasl_dispose; N times in one
 * process after one sasl_client_init.
 *
 * Every allocation of libsasl2 and of the plugin (utils->malloc goes
 * through libsasl2's allocation table) passes through a counting allocator
 * installed with sasl_set_alloc(), which gives the heap in use and its
 * peak per connection.  Run it under `valgrind --tool=callgrind` with two
 * values of -n: the difference of the totals divided by the difference of
 * the counts is the cost of one login, without libsasl2's initialisation.
 *
 * The token is a fixed fake one (it is no secret), or with -t BYTES a fake
 * b64token of that length (a Microsoft JWT is about 2 KB); with -e the
 * password is empty and the plugin asks `mailbearer serve`
 * (MAILBEARER_SOCKET) for the token of the account named like the user.
 * -m PLAIN logs in with the same password through Cyrus's PLAIN plugin
 * (SASL_PATH must name its directory too): the baseline of the
 * benchmark's ratios.  wall_ns_per_login is the wall time of the N
 * logins (without sasl_client_init) divided by N.
 *
 * Prints key=value lines on stdout; exit status 0 when every login
 * succeeded, 1 otherwise, 2 on a usage error. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include "bench-util.h"

#define BENCH_TOKEN "ya29.a0AfB_byBENCH-fake-access-token_0123456789" \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* --- counting allocator -------------------------------------------------
 * A 16-byte header in front of each block keeps its size, so that free
 * and realloc can account for it; 16 keeps malloc's alignment. */

#define ALLOC_HDR 16

static size_t heap_live;	/* bytes handed out and not freed */
static size_t heap_peak;	/* maximum of heap_live since the last reset */
static unsigned long heap_calls;	/* malloc + calloc + realloc calls */

static void
heap_add(size_t n)
{
	heap_live += n;
	if (heap_live > heap_peak)
		heap_peak = heap_live;
}

static void *
count_malloc(size_t n)
{
	unsigned char *p = malloc(n + ALLOC_HDR);

	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	heap_calls++;
	heap_add(n);
	return p + ALLOC_HDR;
}

static void *
count_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > (SIZE_MAX - ALLOC_HDR) / size)
		return NULL;
	p = count_malloc(nmemb * size);
	if (p != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

static void
count_free(void *ptr)
{
	unsigned char *p = ptr;
	size_t n;

	if (p == NULL)
		return;
	p -= ALLOC_HDR;
	memcpy(&n, p, sizeof(n));
	heap_live -= n;
	free(p);
}

static void *
count_realloc(void *ptr, size_t n)
{
	unsigned char *p = ptr, *q;
	size_t old = 0;

	if (p == NULL)
		return count_malloc(n);
	p -= ALLOC_HDR;
	memcpy(&old, p, sizeof(old));
	q = realloc(p, n + ALLOC_HDR);
	if (q == NULL)
		return NULL;
	memcpy(q, &n, sizeof(n));
	heap_calls++;
	heap_live -= old;
	heap_add(n);
	return q + ALLOC_HDR;
}

/* --- callbacks: what Postfix registers (simple authname, secret pass) -- */

static const char *opt_user = "bench@example.com";
static bool opt_empty;		/* empty password: ask the token helper */

static int
cb_authname(void *context, int id, const char **result, unsigned *len)
{
	(void)context;
	if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
		return SASL_FAIL;
	*result = opt_user;
	if (len != NULL)
		*len = (unsigned)strlen(opt_user);
	return SASL_OK;
}

/* the password (-t: a fake b64token of that length) */
#define BENCH_TOKEN_MAX 16384
static char bench_token[BENCH_TOKEN_MAX + 1] = BENCH_TOKEN;
static size_t bench_token_len = sizeof(BENCH_TOKEN) - 1;

static union {
	sasl_secret_t s;
	char room[sizeof(sasl_secret_t) + BENCH_TOKEN_MAX + 1];
} secret;

/* A fake b64token of len bytes: a JWT-like mix of its alphabet. */
static void
make_token(size_t len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-_.";

	for (size_t i = 0; i < len; i++)
		bench_token[i] = alpha[(i * 7 + i / 13) % (sizeof(alpha) - 1)];
	bench_token[len] = '\0';
	bench_token_len = len;
}

static int
cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	(void)conn;
	(void)context;
	if (id != SASL_CB_PASS)
		return SASL_FAIL;
	if (opt_empty) {
		secret.s.len = 0;
	} else {
		secret.s.len = (unsigned)bench_token_len;
		memcpy(secret.s.data, bench_token, bench_token_len + 1);
	}
	*psecret = &secret.s;
	return SASL_OK;
}

static int
cb_log(void *context, int level, const char *message)
{
	(void)context;
	if (level <= SASL_LOG_ERR)
		fprintf(stderr, "bench-login: sasl: %s\n", message);
	return SASL_OK;
}

typedef int (*bench_cb_fn)(void);

static sasl_callback_t conn_cbs[] = {
	{ SASL_CB_AUTHNAME, NULL, NULL },
	{ SASL_CB_PASS, NULL, NULL },
	{ SASL_CB_USER, NULL, NULL },	/* PLAIN asks for the authzid */
	{ SASL_CB_LIST_END, NULL, NULL },
};

static const sasl_callback_t global_cbs[] = {
	{ SASL_CB_LOG, (bench_cb_fn)(void (*)(void))cb_log, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/* One full exchange; returns true when libsasl2 reports success. */
static bool
one_login(const char *mech)
{
	sasl_conn_t *conn = NULL;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	bool ok = false;
	int rc;

	rc = sasl_client_new("smtp", "localhost", "127.0.0.1;40000",
			     "127.0.0.1;25", conn_cbs, 0, &conn);
	if (rc != SASL_OK) {
		fprintf(stderr, "bench-login: sasl_client_new: %s\n",
			sasl_errstring(rc, NULL, NULL));
		goto out;
	}
	rc = sasl_client_start(conn, mech, NULL, &out, &outlen, &chosen);
	if (rc == SASL_OK && outlen > 0) {
		/* PLAIN: done with its one message */
		ok = true;
		goto out;
	}
	if (rc != SASL_CONTINUE || outlen == 0) {
		fprintf(stderr, "bench-login: sasl_client_start: %s: %s\n",
			sasl_errstring(rc, NULL, NULL), sasl_errdetail(conn));
		goto out;
	}
	/* the server accepted: an empty message */
	rc = sasl_client_step(conn, "", 0, NULL, &out, &outlen);
	if (rc != SASL_OK) {
		fprintf(stderr, "bench-login: sasl_client_step: %s: %s\n",
			sasl_errstring(rc, NULL, NULL), sasl_errdetail(conn));
		goto out;
	}
	ok = true;
out:
	sasl_dispose(&conn);
	return ok;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-login [-n LOGINS] [-m MECH] "
		"[-u USER] [-t TOKEN-BYTES] [-e]\n"
		"  -e  empty password: the plugin asks mailbearer serve\n"
		"  -t  the password: a fake b64token of that length\n"
		"  -m PLAIN: Cyrus's PLAIN with the same password\n");
}

int
main(int argc, char **argv)
{
	const char *mech = "XOAUTH2";
	long n = 1, failures = 0;
	size_t live_before, live_after_first = 0, max_conn_peak = 0;
	unsigned long calls_before, calls_first = 0;
	struct timespec t0, t1;
	long bytes;
	int rc, c;

	while ((c = getopt(argc, argv, "n:m:u:t:e")) != -1) {
		switch (c) {
		case 'n':
			n = bench_parse_count(optarg, 10000000);
			if (n < 0) {
				usage();
				return 2;
			}
			break;
		case 'm':
			mech = optarg;
			break;
		case 'u':
			opt_user = optarg;
			break;
		case 'e':
			opt_empty = true;
			break;
		case 't':
			bytes = bench_parse_count(optarg, BENCH_TOKEN_MAX);
			if (bytes < 0) {
				usage();
				return 2;
			}
			make_token((size_t)bytes);
			break;
		default:
			usage();
			return 2;
		}
	}
	conn_cbs[0].proc = (bench_cb_fn)(void (*)(void))cb_authname;
	conn_cbs[1].proc = (bench_cb_fn)(void (*)(void))cb_pass;
	conn_cbs[2].proc = (bench_cb_fn)(void (*)(void))cb_authname;

	sasl_set_alloc(count_malloc, count_calloc, count_realloc,
		       count_free);
	rc = sasl_client_init(global_cbs);
	if (rc != SASL_OK) {
		fprintf(stderr, "bench-login: sasl_client_init: %s\n",
			sasl_errstring(rc, NULL, NULL));
		return 1;
	}
	live_before = heap_live;
	calls_before = heap_calls;
	printf("heap_after_init=%zu\n", live_before);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		size_t base = heap_live;

		heap_peak = heap_live;
		if (!one_login(mech))
			failures++;
		if (heap_peak - base > max_conn_peak)
			max_conn_peak = heap_peak - base;
		if (i == 0) {
			live_after_first = heap_live;
			calls_first = heap_calls - calls_before;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("mech=%s\nlogins=%ld\nfailures=%ld\n", mech, n, failures);
	printf("wall_ns_per_login=%.0f\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		(double)(t1.tv_nsec - t0.tv_nsec)) / (double)n);
	printf("heap_peak_per_conn=%zu\n", max_conn_peak);
	printf("allocs_first_login=%lu\n", calls_first);
	printf("allocs_per_login=%.1f\n",
	       (double)(heap_calls - calls_before) / (double)n);
	printf("heap_live_after_first=%zu\nheap_live_after_last=%zu\n",
	       live_after_first, heap_live);
	printf("heap_growth=%ld\n",
	       (long)heap_live - (long)live_after_first);
	sasl_client_done();
	printf("heap_live_after_done=%zu\n", heap_live);
	return failures == 0 ? 0 : 1;
}

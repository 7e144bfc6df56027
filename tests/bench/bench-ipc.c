/* SPDX-License-Identifier: MIT */
/* Benchmark driver: load on `mailbearer serve` over its UNIX socket with
 * the plugin's own protocol (doc/protocol.md, MAILBEARER1): C client
 * processes, each sending R sequential "TOKEN <account>" requests (one
 * connection per request, as the plugin does).  The clients are forked
 * first and released together; each request's latency (connect to the
 * response's LF) goes into a shared array, and the parent prints the
 * count, the wall time, requests/s and latency percentiles.
 *
 * With -q RATE each client paces its requests at RATE per second (open
 * loop: the next request is sent at its due time, or at once when the
 * previous answer came late); latency is still connect to LF.  -w MS
 * bounds each request (connect included; default 30000, the plugin's
 * timeout): a request with no answer by then counts as an error and as a
 * timeout.  -d SECONDS stops each client sending once that much time
 * has passed since the start (the requests not sent are not counted).
 *
 * With -R it instead fetches the current token once and reports it as
 * rejected ("REJECTED <account> <token>"), so that the next TOKEN request
 * makes serve refresh: the single-flight benchmark.
 *
 * cpu_us is the CPU time (user + system) of this process and of its
 * client processes: the client side of the whole path.
 *
 * Tokens are never printed.  Output: key=value lines; exit status 0 when
 * every request got an OK (or DONE), 1 otherwise, 2 on a usage error. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

/* doc/protocol.md: lines are at most 32768 bytes with the LF */
#define IPC_LINE_MAX	32768
#define CLIENTS_MAX	1000

/* per-request bound, -w */
static int ipc_timeout_ms = 30000;
/* no new request after this long (ns since the start), -d; 0: none */
static uint64_t run_limit_ns;
#define NOT_SENT	UINT64_MAX

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Milliseconds left until deadline (ns), at least 0. */
static int
ms_left(uint64_t deadline)
{
	uint64_t now = now_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
}

/* One request/response exchange on a fresh connection, within
 * ipc_timeout_ms.  The response (without its LF, NUL-terminated) goes to
 * resp.  Returns 0, -1 on a transport error, -2 on a timeout (message on
 * stderr). */
static int
ipc_call(const char *path, const char *req, char *resp, size_t resp_size)
{
	struct sockaddr_un sa;
	struct timeval tv = { ipc_timeout_ms / 1000,
			      (ipc_timeout_ms % 1000) * 1000 };
	uint64_t deadline = now_ns() + (uint64_t)ipc_timeout_ms * 1000000u;
	size_t len = strlen(req), done = 0, got = 0;
	int fd, ret = -1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("bench-ipc: socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "bench-ipc: socket path too long\n");
		goto out;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a blocking connect to a full backlog waits up to SO_SNDTIMEO */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EAGAIN || errno == EINPROGRESS) {
			fprintf(stderr, "bench-ipc: connect: no room within "
				"%d ms\n", ipc_timeout_ms);
			ret = -2;
		} else {
			perror("bench-ipc: connect");
		}
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, req + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("bench-ipc: write");
			goto out;
		}
		done += (size_t)n;
	}
	while (got + 1 < resp_size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char *lf;

		if (poll(&pfd, 1, ms_left(deadline)) <= 0) {
			fprintf(stderr, "bench-ipc: no answer within %d ms\n",
				ipc_timeout_ms);
			ret = -2;
			goto out;
		}
		n = read(fd, resp + got, resp_size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "bench-ipc: connection closed "
				"without a full answer\n");
			goto out;
		}
		resp[got + (size_t)n] = '\0';
		lf = strchr(resp + got, '\n');
		got += (size_t)n;
		if (lf != NULL) {
			*lf = '\0';
			ret = 0;
			goto out;
		}
	}
	fprintf(stderr, "bench-ipc: answer too long\n");
out:
	close(fd);
	return ret;
}

/* The ERR code of a response, for diagnostics (never the token). */
static void
report_bad(const char *resp)
{
	if (strncmp(resp, "MAILBEARER1 ERR ", 16) == 0)
		fprintf(stderr, "bench-ipc: %.200s\n", resp);
	else
		fprintf(stderr, "bench-ipc: unexpected answer (%zu bytes)\n",
			strlen(resp));
}

static int
reject_current(const char *path, const char *account)
{
	char *req = malloc(IPC_LINE_MAX + 64);
	char *resp = malloc(IPC_LINE_MAX + 1);
	const char *tok;
	int ret = 1;

	if (req == NULL || resp == NULL)
		goto out;
	snprintf(req, IPC_LINE_MAX, "MAILBEARER1 TOKEN %s\n", account);
	if (ipc_call(path, req, resp, IPC_LINE_MAX + 1) < 0)
		goto out;
	if (strncmp(resp, "MAILBEARER1 OK ", 15) != 0 ||
	    (tok = strchr(resp + 15, ' ')) == NULL) {
		report_bad(resp);
		goto out;
	}
	snprintf(req, IPC_LINE_MAX + 64, "MAILBEARER1 REJECTED %s %s\n",
		 account, tok + 1);
	if (ipc_call(path, req, resp, IPC_LINE_MAX + 1) < 0)
		goto out;
	if (strcmp(resp, "MAILBEARER1 DONE") != 0) {
		report_bad(resp);
		goto out;
	}
	printf("rejected=1\n");
	ret = 0;
out:
	if (req != NULL)
		memset(req, 0, IPC_LINE_MAX + 64);
	if (resp != NULL)
		memset(resp, 0, IPC_LINE_MAX + 1);
	free(req);
	free(resp);
	return ret;
}

/* Shared between the parent and the clients. */
struct shared {
	uint64_t errors;
	uint64_t timeouts;
	uint64_t lat_ns[];	/* clients * requests, per-client slices */
};

/* Sleeps until the monotonic time t (ns). */
static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u),
			       (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
			       NULL) == EINTR)
		;
}

static void
client_run(const char *path, const char *account, long requests,
	   double rate, struct shared *sh, long slot, int barrier)
{
	char req[320], *resp = malloc(IPC_LINE_MAX + 1);
	uint64_t start;
	char go;
	ssize_t n;

	snprintf(req, sizeof(req), "MAILBEARER1 TOKEN %s\n", account);
	/* wait until every client exists; EOF is the start signal */
	do
		n = read(barrier, &go, 1);
	while (n < 0 && errno == EINTR);
	start = now_ns();
	for (long i = 0; i < requests; i++) {
		uint64_t t0;
		int rc = -1;
		bool ok;

		if (rate > 0)
			sleep_until(start + (uint64_t)((double)i / rate * 1e9));
		t0 = now_ns();
		if (run_limit_ns > 0 && t0 - start >= run_limit_ns) {
			for (; i < requests; i++)
				sh->lat_ns[slot * requests + i] = NOT_SENT;
			break;
		}
		if (resp != NULL)
			rc = ipc_call(path, req, resp, IPC_LINE_MAX + 1);
		ok = rc == 0 && strncmp(resp, "MAILBEARER1 OK ", 15) == 0;
		sh->lat_ns[slot * requests + i] = now_ns() - t0;
		if (rc == 0 && !ok)
			report_bad(resp);
		if (rc == -2)
			__atomic_add_fetch(&sh->timeouts, 1, __ATOMIC_RELAXED);
		if (!ok)
			__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
	}
	if (resp != NULL)
		memset(resp, 0, IPC_LINE_MAX + 1);
	free(resp);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_us(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);

	return (double)v[i < n ? i : n - 1] / 1000.0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-ipc -s SOCKET -a ACCOUNT [-c CLIENTS] "
		"[-r REQUESTS-PER-CLIENT]\n"
		"                 [-q RATE-PER-CLIENT] [-w TIMEOUT-MS] "
		"[-d SECONDS]\n"
		"       bench-ipc -s SOCKET -a ACCOUNT -R\n");
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *account = NULL;
	long clients = 1, requests = 1;
	double rate = 0;
	bool reject = false, bad = false;
	struct shared *sh;
	size_t total, sh_size;
	pid_t pids[CLIENTS_MAX];
	int barrier[2], c, ret = 1;
	uint64_t t0, wall;

	while ((c = getopt(argc, argv, "s:a:c:r:q:w:d:R")) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'a':
			account = optarg;
			break;
		case 'c':
			clients = bench_parse_count(optarg, CLIENTS_MAX);
			break;
		case 'r':
			requests = bench_parse_count(optarg, 10000000);
			break;
		case 'q':
			rate = (double)bench_parse_count(optarg, 100000);
			bad |= rate <= 0;
			break;
		case 'w':
			ipc_timeout_ms = (int)bench_parse_count(optarg,
								3600000);
			bad |= ipc_timeout_ms <= 0;
			break;
		case 'd':
			run_limit_ns = (uint64_t)bench_parse_count(optarg,
								   3600);
			bad |= run_limit_ns == (uint64_t)-1;
			run_limit_ns *= 1000000000u;
			break;
		case 'R':
			reject = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (bad || path == NULL || account == NULL || clients < 0 ||
	    requests < 0 || strlen(account) > 255) {
		usage();
		return 2;
	}
	if (reject)
		return reject_current(path, account);

	total = (size_t)clients * (size_t)requests;
	sh_size = sizeof(*sh) + total * sizeof(sh->lat_ns[0]);
	sh = mmap(NULL, sh_size, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("bench-ipc: mmap");
		return 1;
	}
	if (pipe(barrier) < 0) {
		perror("bench-ipc: pipe");
		goto out;
	}
	fflush(stdout);
	for (long i = 0; i < clients; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("bench-ipc: fork");
			clients = i;
			sh->errors++;
			break;
		}
		if (pids[i] == 0) {
			close(barrier[1]);
			client_run(path, account, requests, rate, sh, i,
				   barrier[0]);
			_exit(0);
		}
	}
	close(barrier[0]);
	t0 = now_ns();
	close(barrier[1]);	/* go */
	for (long i = 0; i < clients; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			sh->errors++;
	}
	wall = now_ns() - t0;
	total = (size_t)clients * (size_t)requests;
	if (total == 0)
		goto out;
	qsort(sh->lat_ns, total, sizeof(sh->lat_ns[0]), cmp_u64);
	while (total > 0 && sh->lat_ns[total - 1] == NOT_SENT)
		total--;
	if (total == 0) {
		printf("requests=0\nerrors=%llu\n",
		       (unsigned long long)sh->errors);
		goto out;
	}
	printf("clients=%ld\nrequests=%zu\nerrors=%llu\ntimeouts=%llu\n",
	       clients, total, (unsigned long long)sh->errors,
	       (unsigned long long)sh->timeouts);
	{
		struct rusage self, kids;

		getrusage(RUSAGE_SELF, &self);
		getrusage(RUSAGE_CHILDREN, &kids);
		printf("cpu_us=%.0f\n",
		       (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
				kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) *
		       1e6 +
		       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
				kids.ru_utime.tv_usec + kids.ru_stime.tv_usec));
	}
	printf("wall_s=%.3f\nrps=%.0f\n", (double)wall / 1e9,
	       (double)total / ((double)wall / 1e9));
	printf("p50_us=%.0f\np90_us=%.0f\np99_us=%.0f\nmax_us=%.0f\n",
	       pct_us(sh->lat_ns, total, 50), pct_us(sh->lat_ns, total, 90),
	       pct_us(sh->lat_ns, total, 99), pct_us(sh->lat_ns, total, 100));
	ret = sh->errors == 0 ? 0 : 1;
out:
	munmap(sh, sh_size);
	return ret;
}

/* Benchmark driver: load on `mailbearer serve` over its UNIX socket with
 * the plugin's own protocol (doc/protocol.md, MAILBEARER1): C client
 * processes, each sending R sequential "TOKEN <account>" requests (one
 * connection per request, as the plugin does).  The clients are forked
 * first and released together; each request's latency (connect to the
 * response's LF) goes into a shared array, and the parent prints the
 * count, the wall time, requests/s and latency percentiles.
 *
 * With -R it instead fetches the current token once and reports it as
 * rejected ("REJECTED <account> <token>"), so that the next TOKEN request
 * makes serve refresh: the single-flight benchmark.
 *
 * Tokens are never printed.  Output: key=value lines; exit status 0 when
 * every request got an OK (or DONE), 1 otherwise, 2 on a usage error. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

/* doc/protocol.md: lines are at most 32768 bytes with the LF */
#define IPC_LINE_MAX	32768
#define IPC_TIMEOUT_MS	30000
#define CLIENTS_MAX	1000

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One request/response exchange on a fresh connection.  The response
 * (without its LF, NUL-terminated) goes to resp.  Returns 0, or -1 on a
 * transport error (message on stderr). */
static int
ipc_call(const char *path, const char *req, char *resp, size_t resp_size)
{
	struct sockaddr_un sa;
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
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("bench-ipc: connect");
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

		if (poll(&pfd, 1, IPC_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "bench-ipc: no answer within %d ms\n",
				IPC_TIMEOUT_MS);
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
	uint64_t lat_ns[];	/* clients * requests, per-client slices */
};

static void
client_run(const char *path, const char *account, long requests,
	   struct shared *sh, long slot, int barrier)
{
	char req[320], *resp = malloc(IPC_LINE_MAX + 1);
	char go;
	ssize_t n;

	snprintf(req, sizeof(req), "MAILBEARER1 TOKEN %s\n", account);
	/* wait until every client exists; EOF is the start signal */
	do
		n = read(barrier, &go, 1);
	while (n < 0 && errno == EINTR);
	for (long i = 0; i < requests; i++) {
		uint64_t t0 = now_ns();
		bool ok = resp != NULL &&
			ipc_call(path, req, resp, IPC_LINE_MAX + 1) == 0 &&
			strncmp(resp, "MAILBEARER1 OK ", 15) == 0;

		sh->lat_ns[slot * requests + i] = now_ns() - t0;
		if (!ok) {
			if (resp != NULL)
				report_bad(resp);
			__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
		}
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
		"       bench-ipc -s SOCKET -a ACCOUNT -R\n");
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *account = NULL;
	long clients = 1, requests = 1;
	bool reject = false;
	struct shared *sh;
	size_t total, sh_size;
	pid_t pids[CLIENTS_MAX];
	int barrier[2], c, ret = 1;
	uint64_t t0, wall;

	while ((c = getopt(argc, argv, "s:a:c:r:R")) != -1) {
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
		case 'R':
			reject = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (path == NULL || account == NULL || clients < 0 || requests < 0 ||
	    strlen(account) > 255) {
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
			client_run(path, account, requests, sh, i,
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
	printf("clients=%ld\nrequests=%zu\nerrors=%llu\n", clients, total,
	       (unsigned long long)sh->errors);
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

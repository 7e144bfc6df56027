/* SPDX-License-Identifier: MIT */
/* Benchmark baseline: the smallest server that answers MAILBEARER1 the
 * way `mailbearer serve` does from memory.  One UNIX stream socket; by
 * default iterative (one thread: accept, read the request line, write
 * one fixed "MAILBEARER1 OK <expires-at> <token>" line, close, next),
 * the design of a single-threaded event loop at its cheapest; with -t a
 * detached thread per connection (serve's engine before issue 12).  No
 * access control, no account lookup, no cache: what serve adds on top of
 * this is what the benchmark shows.  -T FILE answers with the token in
 * FILE (one line), so that the plugin accepts the answer.
 *
 * bench-echo -s SOCKET [-n TOKEN-BYTES | -T TOKEN-FILE] [-t]
 * Runs until SIGTERM or SIGINT; creates the socket (removing a stale
 * one), prints "ready" on stdout when listening. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define ECHO_LINE_MAX	32768
#define ECHO_READ_MS	3000

static char *echo_answer;
static size_t echo_answer_len;

static void *
echo_conn(void *arg)
{
	int fd = (int)(long)arg;
	char buf[ECHO_LINE_MAX];
	size_t got = 0, done = 0;

	while (got < sizeof(buf)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, ECHO_READ_MS) <= 0)
			goto out;
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		if (memchr(buf + got, '\n', (size_t)n) != NULL)
			break;
		got += (size_t)n;
	}
	while (done < echo_answer_len) {
		ssize_t n = send(fd, echo_answer + done,
				 echo_answer_len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
out:
	close(fd);
	return NULL;
}

static int
echo_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "bench-echo: socket path too long\n");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("bench-echo: socket");
		return -1;
	}
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		perror("bench-echo: bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

static void
echo_make_answer(long bytes, const char *token_file)
{
	char tok[ECHO_LINE_MAX];
	size_t cap = (size_t)bytes + 64, tlen = 0;
	int n;

	if (token_file != NULL) {
		FILE *f = fopen(token_file, "r");

		if (f == NULL || fgets(tok, sizeof(tok) - 64, f) == NULL) {
			fprintf(stderr, "bench-echo: cannot read %s\n",
				token_file);
			exit(1);
		}
		fclose(f);
		tlen = strcspn(tok, "\r\n");
		bytes = (long)tlen;
		cap = tlen + 64;
	}

	echo_answer = malloc(cap);
	if (echo_answer == NULL) {
		perror("bench-echo: malloc");
		exit(1);
	}
	n = snprintf(echo_answer, cap, "MAILBEARER1 OK %lld ",
		     (long long)time(NULL) + 3600);
	if (token_file != NULL)
		memcpy(echo_answer + n, tok, tlen);
	else
		memset(echo_answer + n, 'e', (size_t)bytes);
	echo_answer[n + bytes] = '\n';
	echo_answer_len = (size_t)n + (size_t)bytes + 1;
}

static void
echo_loop(int lfd)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			perror("bench-echo: accept");
			break;
		}
		if (pthread_create(&t, &attr, echo_conn,
				   (void *)(long)fd) != 0)
			close(fd);
	}
	pthread_attr_destroy(&attr);
}

/* Iterative: one connection at a time, in this thread. */
static void
echo_loop_iterative(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			perror("bench-echo: accept");
			break;
		}
		(void)echo_conn((void *)(long)fd);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-echo -s SOCKET "
		"[-n TOKEN-BYTES | -T FILE] "
		"[-t]\n");
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *token_file = NULL;
	long bytes = 20;
	int c, lfd, threaded = 0;

	while ((c = getopt(argc, argv, "s:n:T:t")) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'n':
			bytes = bench_parse_count(optarg, ECHO_LINE_MAX - 64);
			break;
		case 'T':
			token_file = optarg;
			break;
		case 't':
			threaded = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (path == NULL || bytes < 0) {
		usage();
		return 2;
	}
	echo_make_answer(bytes, token_file);
	lfd = echo_listen(path);
	if (lfd < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	if (threaded)
		echo_loop(lfd);
	else
		echo_loop_iterative(lfd);
	return 1;
}

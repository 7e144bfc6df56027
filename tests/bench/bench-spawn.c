/* SPDX-License-Identifier: MIT */
/* Benchmark driver: start N copies of a command at the same moment and
 * time them.  The children are forked first and wait on a pipe; closing
 * it releases them all, and the wall time runs from there to the exit of
 * the last one.  Child i's standard output goes to DIR/i.out and its
 * standard error to DIR/i.err (0600); stdin is /dev/null.
 *
 *   bench-spawn -n N -o DIR -- COMMAND [ARGS...]
 *
 * Output: key=value lines (procs, failed, wall_s); exit status 0 when
 * every child exited 0, 1 otherwise, 2 on a usage error. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define PROCS_MAX 2000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
redirect(const char *dir, long i, const char *ext, int target)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%ld.%s", dir, i, ext);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, target) < 0)
		return -1;
	close(fd);
	return 0;
}

static void
child(const char *dir, long i, int barrier, char **cmd)
{
	char go;
	ssize_t n;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0 || dup2(null, 0) < 0 ||
	    redirect(dir, i, "out", 1) < 0 || redirect(dir, i, "err", 2) < 0)
		_exit(126);
	do
		n = read(barrier, &go, 1);
	while (n < 0 && errno == EINTR);
	close(barrier);
	execvp(cmd[0], cmd);
	_exit(127);
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	long n = 0, failed = 0;
	pid_t pids[PROCS_MAX];
	int barrier[2], c;
	double t0;

	while ((c = getopt(argc, argv, "+n:o:")) != -1) {
		switch (c) {
		case 'n':
			n = bench_parse_count(optarg, PROCS_MAX);
			if (n < 0)
				n = 0;
			break;
		case 'o':
			dir = optarg;
			break;
		default:
			n = 0;
			break;
		}
	}
	if (n == 0 || dir == NULL || optind >= argc) {
		fprintf(stderr, "usage: bench-spawn -n N -o DIR -- COMMAND "
			"[ARGS...]\n");
		return 2;
	}
	if (pipe2(barrier, O_CLOEXEC) < 0) {
		perror("bench-spawn: pipe");
		return 1;
	}
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("bench-spawn: fork");
			failed += n - i;
			n = i;
			break;
		}
		if (pids[i] == 0) {
			close(barrier[1]);
			child(dir, i, barrier[0], argv + optind);
		}
	}
	close(barrier[0]);
	t0 = now_s();
	close(barrier[1]);	/* go */
	for (long i = 0; i < n; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	printf("procs=%ld\nfailed=%ld\nwall_s=%.3f\n", n, failed,
	       now_s() - t0);
	return failed == 0 ? 0 : 1;
}

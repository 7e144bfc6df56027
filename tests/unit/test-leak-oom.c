/* SPDX-License-Identifier: MIT */
/*
 * The helper's one out-of-memory policy (tokenhelper/xalloc.h): an
 * allocation that fails, in a worker thread as in the main thread, writes
 * one line and ends the process with _exit(EX_OSERR): no atexit handler
 * runs (they would race the other threads), nothing is flushed.
 */
#include <config.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "tokenhelper/xalloc.h"

static int marker_fd = -1;

static void
on_exit_marker(void)
{
	static const char m[] = "atexit-ran\n";

	if (write(marker_fd, m, sizeof(m) - 1) < 0)
		_exit(99);
}

/* Far beyond PTRDIFF_MAX: malloc() refuses it at once. */
#define HUGE_SIZE (SIZE_MAX / 2 + 4096)

static const char *const kinds[] = { "malloc", "calloc", "realloc" };

static void *
alloc_huge(void *arg)
{
	switch ((intptr_t)arg) {
	case 0:
		(void)mb_xmalloc(HUGE_SIZE);
		break;
	case 1:
		(void)mb_xcalloc(SIZE_MAX / 8, 16);
		break;
	default:
		(void)mb_xrealloc(NULL, HUGE_SIZE);
		break;
	}
	return NULL;
}

/* Runs alloc_huge(kind) in a child (in a thread of it if threaded);
 * collects its exit status and what it wrote to stderr and the marker. */
static void
run_child(intptr_t kind, bool threaded)
{
	int err_pipe[2], mark_pipe[2], status = -1;
	char errbuf[512] = "", markbuf[64] = "";
	ssize_t n;
	pid_t pid;

	if (pipe(err_pipe) < 0 || pipe(mark_pipe) < 0)
		tap_skip_all("pipe failed");
	pid = fork();
	if (pid < 0)
		tap_skip_all("fork failed");
	if (pid == 0) {
		pthread_t th;

		close(err_pipe[0]);
		close(mark_pipe[0]);
		dup2(err_pipe[1], STDERR_FILENO);
		dup2(mark_pipe[1], STDOUT_FILENO);
		marker_fd = mark_pipe[1];
		atexit(on_exit_marker);
		/* Something buffered that exit() would flush. */
		fputs("buffered-output ", stdout);
		if (threaded) {
			if (pthread_create(&th, NULL, alloc_huge,
					   (void *)kind) != 0)
				_exit(98);
			pthread_join(th, NULL);
		} else {
			alloc_huge((void *)kind);
		}
		exit(0);
	}
	close(err_pipe[1]);
	close(mark_pipe[1]);
	n = read(err_pipe[0], errbuf, sizeof(errbuf) - 1);
	errbuf[n > 0 ? n : 0] = '\0';
	n = read(mark_pipe[0], markbuf, sizeof(markbuf) - 1);
	markbuf[n > 0 ? n : 0] = '\0';
	close(err_pipe[0]);
	close(mark_pipe[0]);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 71,
	       "%s%s: exit status 71 (EX_OSERR)", kinds[kind],
	       threaded ? " in a thread" : "");
	tap_has_str(errbuf, "out of memory", "one line on stderr");
	tap_ok(strchr(errbuf, '\n') == strrchr(errbuf, '\n'),
	       "exactly one line");
	tap_is_str(markbuf, "", "no atexit handler ran, no stdio flushed");
}

int
main(void)
{
#ifdef __SANITIZE_ADDRESS__
	/* Its allocator adds a line of its own to stderr (tests/run's ASan
	 * build); the policy is checked by the normal build. */
	tap_skip_all("ASan build: the sanitizer reports failed allocations");
#endif
	fflush(stdout);
	run_child(0, true);
	run_child(1, true);
	run_child(2, true);
	run_child(0, false);
	return tap_done();
}

/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "postfix-query.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wipe.h"
#include "xalloc.h"

/* Reads what is there on fd into buf[*len..size-1) (beyond: read and
 * dropped); false at end of file or on an error. */
static bool
pq_drain(int fd, char *buf, size_t size, size_t *len)
{
	char sink[512];
	ssize_t r;

	if (*len + 1 < size)
		r = read(fd, buf + *len, size - 1 - *len);
	else
		r = read(fd, sink, sizeof(sink));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (r <= 0)
		return false;
	if (*len + 1 < size)
		*len += (size_t)r;
	return true;
}

/* The last non-empty line of s, into err. */
static void
pq_last_line(const char *s, size_t len, char *err, size_t size)
{
	size_t end = len, start;

	while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	snprintf(err, size, "%.*s", (int)(end - start), s + start);
}

int
mb_pf_run(const char *dir, const char *prog, const char *const *args,
	  size_t max, struct mb_pf_out *r)
{
	/* execvp's argv is char *const[]: the strings are not written */
	union {
		const char **c;
		char *const *v;
	} av;
	const char *argv[12];
	char errbuf[4096];
	size_t n = 0, len = 0, elen = 0;
	struct pollfd p[2];
	int out[2], err[2], st, dn;
	pid_t pid;

	r->out = mb_xmalloc(max);
	r->size = max;
	r->out[0] = '\0';
	r->err[0] = '\0';
	r->status = 127;
	argv[n++] = prog;
	if (dir != NULL) {
		argv[n++] = "-c";
		argv[n++] = dir;
	}
	while (*args != NULL && n < 11)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC) != 0)
		return r->status;
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		return r->status;
	}
	pid = fork();
	if (pid == 0) {
		dn = open("/dev/null", O_RDONLY);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (dn >= 0)
			dup2(dn, 0);
		av.c = argv;
		execvp(prog, av.v);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p[0].fd = pid < 0 ? -1 : out[0];
	p[1].fd = pid < 0 ? -1 : err[0];
	p[0].events = p[1].events = POLLIN;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents != 0 && !pq_drain(out[0], r->out, max, &len))
			p[0].fd = -1;
		if (p[1].revents != 0 &&
		    !pq_drain(err[0], errbuf, sizeof(errbuf), &elen))
			p[1].fd = -1;
	}
	close(out[0]);
	close(err[0]);
	r->out[len] = '\0';
	while (len > 0 && r->out[len - 1] == '\n')
		r->out[--len] = '\0';
	pq_last_line(errbuf, elen, r->err, sizeof(r->err));
	if (pid < 0)
		return r->status;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 127;
	return r->status;
}

void
mb_pf_out_free(struct mb_pf_out *r)
{
	if (r->out != NULL) {
		mb_wipe(r->out, r->size);
		free(r->out);
	}
	r->out = NULL;
}

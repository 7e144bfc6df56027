/* SPDX-License-Identifier: MIT */
#ifndef MB_SERVE_LOOP_H
#define MB_SERVE_LOOP_H

/* `mailbearer serve`'s engine: one event loop (epoll), like Postfix's
 * event_server and Dovecot's ioloop.  It accepts, checks SO_PEERCRED,
 * reads each request line without blocking under its deadline, and
 * answers from memory (token-cache.h), all on one thread; no thread
 * exists per client.  Refreshes run beside it in a small pool of workers
 * (refresh-pool.h) and come back as events; signals (reload, stop) are
 * events too.  Limits are counters on the loop: connections in all
 * (beyond them new ones wait in the listen backlog), connections per
 * uid (beyond them refused at once), REJECTED reports per uid, and the
 * log lines a uid's requests may cause.  doc/usage-serve.md explains the
 * design. */

#include <stdbool.h>

#include "conf.h"

struct mb_serve_options {
	/* Refresh every account at least this often (seconds), even when
	 * nobody asks for it, so that idle-expiry rules (Microsoft: 90 days)
	 * never bite.  0 disables keep-alive.  Default 7 days. */
	long keepalive;
	/* Connections open at once; more wait in the listen backlog.
	 * Default 1000 (at most the descriptor limit less 64). */
	int max_clients;
	/* Connections of one uid open at once (root and serve's own uid
	 * included); more are refused.  Default 500. */
	int max_per_uid;
	/* A client has this long (ms) to send its whole request.  3000. */
	int request_timeout_ms;
};

/* REJECTED reports of one uid acted on per minute; the excess is
 * answered DONE, counted and logged once. */
#define MB_SERVE_REPORTS_PER_MIN	10
/* Log lines that one uid's requests may cause per minute; the excess is
 * counted and logged once. */
#define MB_SERVE_LOG_PER_MIN		20

struct mb_serve;

void mb_serve_options_default(struct mb_serve_options *opts);
/* Takes ownership of *cfg (sets it to NULL) and reads every account's
 * state, so that tokens valid by the clock are served from the first
 * request.  NULL (logged) on failure. */
struct mb_serve *mb_serve_new(struct mb_config **cfg,
			      const struct mb_serve_options *opts);
/* Runs until SIGTERM or SIGINT (sigfd: a signalfd for those and SIGHUP,
 * which reloads config_path).  Returns 0, or EX_OSERR. */
int mb_serve_run(struct mb_serve *s, const int *listen_fds, int n_listen,
		 int sigfd, const char *config_path);
/* Stops: waiting clients are answered, refreshes cancelled, and those
 * in flight get up to grace_ms to end.  true if everything ended (then
 * mb_serve_free() may free it); false: the caller must _exit(). */
bool mb_serve_stop(struct mb_serve *s, int grace_ms);
/* Wipes every cached token, frees everything, sets *s to NULL.  Only
 * after mb_serve_stop() returned true.  NULL-safe. */
void mb_serve_free(struct mb_serve **s);

#endif

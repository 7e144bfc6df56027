#ifndef MB_LISTENER_H
#define MB_LISTENER_H

/* The connection side of `mailbearer serve`: access control at accept
 * time (SO_PEERCRED: a uid that may use no account, and is neither root
 * nor serve's own uid, is refused before anything is read), a per-uid
 * connection cap, one thread per connection (bounded), a short deadline
 * for the request line, and the answers, which come from the token cache
 * (token-cache.h).  Sockets, signals and option parsing live in cmd-serve.c. */

#include <stdbool.h>

#include "conf.h"

struct mb_listener_options {
	/* Refresh every account at least this often (seconds), even when
	 * nobody asks for it, so that idle-expiry rules (Microsoft: 90 days)
	 * never bite.  0 disables keep-alive.  Default 7 days. */
	long keepalive;
	/* Connections served at the same time; more wait in the listen
	 * backlog.  Default 64. */
	int max_clients;
	/* Connections of one uid served at the same time (root and serve's
	 * own uid included); up to 1024 more wait, without a thread, for up
	 * to 10 s, then are refused.  Default 16. */
	int max_per_uid;
	/* A client has this long (ms) to send its whole request.  3000. */
	int request_timeout_ms;
};

struct mb_listener;

/* Fills opts with the defaults above. */
void mb_listener_options_default(struct mb_listener_options *opts);
/* Takes ownership of *cfg (sets it to NULL).  Starts the token cache.
 * Returns NULL (and logs) if a thread cannot be started; the caller frees
 * the result with mb_listener_free(). */
struct mb_listener *mb_listener_new(struct mb_config **cfg,
				const struct mb_listener_options *opts);
/* True while max_clients connections are being served. */
bool mb_listener_busy(struct mb_listener *srv);
/* Readable (an eventfd) when a slot freed after the server was busy; the
 * main loop polls it and calls mb_listener_wake_clear(). */
int mb_listener_wake_fd(const struct mb_listener *srv);
void mb_listener_wake_clear(struct mb_listener *srv);
/* Takes an accepted connection (fd, closed in every case): refused at
 * once for a stranger, queued for a uid at its cap (refused when that
 * queue is full), else served in a thread. */
void mb_listener_accept(struct mb_listener *srv, int fd);
/* Connections wait in the per-uid queue: the main loop should call
 * mb_listener_tick() about once a second, which also refuses those that
 * waited too long. */
bool mb_listener_waiting(struct mb_listener *srv);
void mb_listener_tick(struct mb_listener *srv);
/* Replaces the configuration (takes ownership of *cfg, sets it to NULL)
 * at once: never waits for a request or a refresh. */
void mb_listener_reload(struct mb_listener *srv, struct mb_config **cfg);
/* Stops: refreshes are cancelled, waiting requests answered, and the
 * connections and refreshes in flight get up to grace_ms to end.  Returns
 * true if everything ended (then mb_listener_free() may free it). */
bool mb_listener_stop(struct mb_listener *srv, int grace_ms);
/* Wipes every cached token, frees everything and sets *srv to NULL.
 * Only after mb_listener_stop() returned true.  NULL-safe. */
void mb_listener_free(struct mb_listener **srv);

#endif

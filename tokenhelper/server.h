#ifndef MB_SERVER_H
#define MB_SERVER_H

/* The token server behind `mailbearer serve`: one thread per connection
 * (bounded), a per-account cache of the current access token with a
 * per-account mutex (single-flight: clients that wait for a refresh find
 * its result and do not refresh again), a background thread for
 * proactive and keep-alive refreshes, SO_PEERCRED access control.
 * Sockets, signals and option parsing live in serve.c. */

#include <stdbool.h>

#include "config.h"

struct mb_server_options {
	/* Refresh every account at least this often (seconds), even when
	 * nobody asks for it, so that idle-expiry rules (Microsoft: 90 days)
	 * never bite.  0 disables keep-alive.  Default 7 days. */
	long keepalive;
	/* Connections served at the same time; more wait in the listen
	 * backlog.  Default 64. */
	int max_clients;
	/* A client has this long (ms) to send its whole request.  10000. */
	int request_timeout_ms;
	/* Refresh a token that clients use this many seconds before the
	 * account's refresh_margin is reached, so that no client has to wait
	 * for the refresh.  Default 60. */
	long lead;
};

struct mb_server;

/* Fills opts with the defaults above. */
void mb_server_options_default(struct mb_server_options *opts);
/* Takes ownership of *cfg (sets it to NULL).  Starts the background
 * refresher.  Returns NULL (and logs) if a thread cannot be started; the
 * caller frees the result with mb_server_free(). */
struct mb_server *mb_server_new(struct mb_config **cfg,
				const struct mb_server_options *opts);
/* True while max_clients connections are being served. */
bool mb_server_busy(struct mb_server *srv);
/* Serves one accepted connection in a new thread; takes ownership of fd
 * (closed in every case). */
void mb_server_dispatch(struct mb_server *srv, int fd);
/* Replaces the configuration (takes ownership of *cfg, sets it to NULL)
 * once the requests in flight are done; cached tokens are dropped (the
 * next request reads the state again), pending rejections are kept. */
void mb_server_reload(struct mb_server *srv, struct mb_config **cfg);
/* Stops the refresher, waits for the connections in flight, wipes every
 * cached token, frees everything and sets *srv to NULL.  NULL-safe. */
void mb_server_free(struct mb_server **srv);

#endif

/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "serve-loop.h"

#include "cancel.h"
#include "errtext.h"
#include "fleet-watch.h"
#include "ipc-proto.h"
#include "log.h"
#include "refresh-pool.h"
#include "token-cache.h"
#include "wipe.h"
#include "xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* A client has this long to take its answer. */
#define MB_WRITE_TIMEOUT_MS	5000
/* The window of the per-uid limits (seconds). */
#define MB_WINDOW		60
/* Accepts per wake-up of one listening socket, so that one busy socket
 * cannot starve the others or the refresh results. */
#define MB_ACCEPT_BATCH		64
/* Out of descriptors: accepting pauses this long. */
#define MB_EMFILE_PAUSE_MS	100
/* Request bytes read into the connection itself; longer requests (a
 * REJECTED with a long token) grow a buffer up to MB_IPC_LINE_MAX. */
#define MB_SMALL_REQUEST	512

enum watch_kind {
	WATCH_LISTEN,
	WATCH_SIGNAL,
	WATCH_POOL,
	WATCH_FLEET,
	WATCH_CONN,
};

struct watch {
	enum watch_kind kind;
	int fd;
};

/* One uid's counters: its open connections, its reports and log lines
 * in the current window.  Created for known uids only (and one for all
 * strangers), so there are at most as many as the configuration names. */
struct uid_slot {
	uid_t uid;
	int conns;
	time_t window;			/* start of the current one */
	unsigned reports;		/* acted on in it */
	unsigned long reports_over;	/* ignored in it */
	unsigned logged;		/* lines in it */
	unsigned long suppressed;	/* lines not written in it */
};

enum conn_state {
	CONN_READ,
	CONN_WAIT,
	CONN_WRITE,
};

struct conn {
	struct watch watch;		/* first: epoll's data */
	struct mb_serve *srv;
	/* closed, freed after the current batch of events (which may
	 * still name it) */
	bool closed;
	struct conn *next_dead;
	struct mb_cache_waiter waiter;
	enum conn_state state;
	uid_t uid;
	pid_t pid;
	struct uid_slot *slot;
	long long deadline;		/* CLOCK_MONOTONIC ms */
	size_t heap_at;
	uint32_t events;		/* registered with epoll, 0: none */
	size_t len;			/* request bytes read */
	char *buf;			/* small, or grown */
	size_t buf_size;
	char *out;			/* the rest of the answer, if any */
	size_t out_len, out_off;
	char small[MB_SMALL_REQUEST];
};

/* store = etcd: the watch of one configuration's fleet, which holds that
 * generation of the cache (its configuration) until the thread ended.
 * The first of serve's list is the current one; the others were stopped
 * by a reload and are freed as soon as their thread ends. */
struct follow {
	struct watch watch;		/* first: epoll's data */
	struct follow *next;
	struct mb_fleet_watch *fw;
	struct mb_cache_gen *g;
};

struct mb_serve {
	struct mb_serve_options opt;
	struct mb_cache *cache;
	struct mb_pool *pool;
	int ep;
	struct watch pool_watch;
	struct watch sig_watch;
	struct watch *listen;
	int n_listen;
	bool listening;
	long long resume_at;		/* after EMFILE, 0 if not paused */
	int n_conns;
	struct conn **heap;		/* by deadline: a binary min-heap */
	size_t heap_size;
	/* sorted by uid; each slot has an address of its own, which the
	 * connections keep */
	struct uid_slot **slots;
	size_t n_slots, slots_cap;
	struct conn *dead;		/* closed, not yet freed */
	bool emfile;			/* the descriptor shortage was logged */
	struct uid_slot strangers;
	char *line;			/* answers are formatted here */
	bool stop;
	const char *config_path;
	struct follow *follows;
};

struct pool_job {
	struct mb_pool_work work;	/* first */
	struct mb_cache_job *job;
};

void
mb_serve_options_default(struct mb_serve_options *opts)
{
	opts->keepalive = 7L * 24 * 3600;
	opts->max_clients = 1000;
	opts->max_per_uid = 500;
	opts->request_timeout_ms = 3000;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- deadlines: a binary min-heap of connections ------------------------ */

static void
heap_set(struct mb_serve *s, size_t i, struct conn *c)
{
	s->heap[i] = c;
	c->heap_at = i;
}

static void
heap_up(struct mb_serve *s, size_t i)
{
	struct conn *c = s->heap[i];

	while (i > 0 && s->heap[(i - 1) / 2]->deadline > c->deadline) {
		heap_set(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(s, i, c);
}

static void
heap_down(struct mb_serve *s, size_t i)
{
	struct conn *c = s->heap[i];

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= s->heap_size)
			break;
		if (k + 1 < s->heap_size &&
		    s->heap[k + 1]->deadline < s->heap[k]->deadline)
			k++;
		if (s->heap[k]->deadline >= c->deadline)
			break;
		heap_set(s, i, s->heap[k]);
		i = k;
	}
	heap_set(s, i, c);
}

/* The heap has room for max_clients: it never grows. */
static void
heap_push(struct mb_serve *s, struct conn *c)
{
	heap_set(s, s->heap_size++, c);
	heap_up(s, c->heap_at);
}

static void
heap_remove(struct mb_serve *s, struct conn *c)
{
	size_t i = c->heap_at;
	struct conn *last = s->heap[--s->heap_size];

	if (last == c)
		return;
	heap_set(s, i, last);
	heap_up(s, i);
	heap_down(s, last->heap_at);
}

static void
conn_deadline(struct mb_serve *s, struct conn *c, long ms)
{
	c->deadline = mono_ms() + ms;
	heap_up(s, c->heap_at);
	heap_down(s, c->heap_at);
}

/* --- per-uid counters --------------------------------------------------- */

static struct uid_slot *
uid_slot(struct mb_serve *s, uid_t uid)
{
	size_t lo = 0, hi = s->n_slots;
	struct uid_slot *u;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->slots[mid]->uid == uid)
			return s->slots[mid];
		if (s->slots[mid]->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n_slots == s->slots_cap) {
		size_t cap = s->slots_cap ? 2 * s->slots_cap : 8;
		s->slots = mb_xrealloc(s->slots, cap * sizeof(*s->slots));
		s->slots_cap = cap;
	}
	u = mb_xcalloc(1, sizeof(*u));
	u->uid = uid;
	memmove(&s->slots[lo + 1], &s->slots[lo],
		(s->n_slots - lo) * sizeof(*s->slots));
	s->slots[lo] = u;
	s->n_slots++;
	return u;
}

/* Starts a new window for u when the last one is over, logging once what
 * it held back. */
static void
slot_window(struct uid_slot *u, time_t now, bool stranger)
{
	if (now < u->window + MB_WINDOW)
		return;
	if (u->suppressed > 0 || u->reports_over > 0) {
		char who[64];

		if (stranger)
			snprintf(who, sizeof(who), "uids that may not use "
				 "serve");
		else
			snprintf(who, sizeof(who), "uid %u", (unsigned)u->uid);
		mb_log(LOG_WARNING, "%s: %lu more log line(s) about its "
		       "requests and %lu REJECTED report(s) over the limit "
		       "of %d a minute were not acted on or logged in the "
		       "last %d s", who, u->suppressed, u->reports_over,
		       MB_SERVE_REPORTS_PER_MIN, MB_WINDOW);
	}
	u->window = now;
	u->reports = 0;
	u->reports_over = 0;
	u->logged = 0;
	u->suppressed = 0;
}

/* Whether a line about u's request may be logged now.  The first line
 * held back says so at once; the count follows when the window ends. */
static bool
slot_may_log(struct mb_serve *s, struct uid_slot *u, time_t now)
{
	slot_window(u, now, u == &s->strangers);
	if (u->logged < MB_SERVE_LOG_PER_MIN) {
		u->logged++;
		return true;
	}
	if (u->suppressed++ == 0) {
		if (u == &s->strangers)
			mb_log(LOG_WARNING, "more than %d log lines a minute "
			       "about uids that may not use serve; the rest of "
			       "this minute's are counted, not written",
			       MB_SERVE_LOG_PER_MIN);
		else
			mb_log(LOG_WARNING, "uid %u: more than %d log lines a "
			       "minute about its requests; the rest of this "
			       "minute's are counted, not written",
			       (unsigned)u->uid, MB_SERVE_LOG_PER_MIN);
	}
	return false;
}

static bool
slot_may_report(struct uid_slot *u, time_t now)
{
	slot_window(u, now, false);
	if (u->reports < MB_SERVE_REPORTS_PER_MIN) {
		u->reports++;
		return true;
	}
	if (u->reports_over++ == 0)
		mb_log(LOG_WARNING, "uid %u: more than %d REJECTED reports a "
		       "minute; the rest of this minute's are answered but not "
		       "acted on", (unsigned)u->uid, MB_SERVE_REPORTS_PER_MIN);
	return false;
}

/* --- epoll --------------------------------------------------------------- */

static int
watch_set(struct mb_serve *s, struct watch *w, uint32_t *cur, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = w };
	int op = *cur == 0 ? EPOLL_CTL_ADD :
		 ev == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

	if (*cur == ev)
		return 0;
	if (epoll_ctl(s->ep, op, w->fd, &e) < 0) {
		mb_log(LOG_ERR, "epoll_ctl: %s", mb_errstr(errno));
		return -1;
	}
	*cur = ev;
	return 0;
}

static void
listen_enable(struct mb_serve *s, bool on)
{
	if (s->listening == on)
		return;
	for (int i = 0; i < s->n_listen; i++) {
		struct epoll_event e = { .events = EPOLLIN,
					 .data.ptr = &s->listen[i] };

		if (epoll_ctl(s->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
			      s->listen[i].fd, &e) < 0)
			mb_log(LOG_ERR, "epoll_ctl: %s", mb_errstr(errno));
	}
	s->listening = on;
}

/* --- connections -------------------------------------------------------- */

static void
conn_close(struct mb_serve *s, struct conn *c)
{
	if (c->waiter.e != NULL) {
		/* the answer is not wanted any more: wiped at once */
		mb_cache_unwait(s->cache, &c->waiter, s->line,
				MB_IPC_LINE_MAX + 1);
		mb_wipe(s->line, strlen(s->line));
	}
	heap_remove(s, c);
	close(c->watch.fd);	/* also takes it out of the epoll set */
	c->slot->conns--;
	s->n_conns--;
	mb_wipe(c->buf, c->len);
	if (c->buf != c->small)
		free(c->buf);
	if (c->out != NULL) {
		mb_wipe(c->out, c->out_len);
		free(c->out);
		c->out = NULL;
	}
	c->closed = true;
	c->next_dead = s->dead;
	s->dead = c;
	if (!s->stop && s->resume_at == 0)
		listen_enable(s, true);
}

/* Frees the connections closed during the last batch of events. */
static void
reap(struct mb_serve *s)
{
	while (s->dead != NULL) {
		struct conn *c = s->dead;

		s->dead = c->next_dead;
		free(c);
	}
}

/* Sends line (NUL-terminated) and closes c, or keeps the rest for
 * EPOLLOUT when the socket is full. */
static void
conn_answer(struct mb_serve *s, struct conn *c, const char *line)
{
	size_t len = strlen(line);
	ssize_t n;

	do {
		n = send(c->watch.fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len || (n < 0 && errno != EAGAIN &&
				  errno != EWOULDBLOCK)) {
		conn_close(s, c);
		return;
	}
	if (n < 0)
		n = 0;
	c->out_len = len - (size_t)n;
	c->out = mb_xmalloc(c->out_len);
	memcpy(c->out, line + n, c->out_len);
	c->out_off = 0;
	c->state = CONN_WRITE;
	if (watch_set(s, &c->watch, &c->events, EPOLLOUT) < 0) {
		conn_close(s, c);
		return;
	}
	conn_deadline(s, c, MB_WRITE_TIMEOUT_MS);
}

static void
conn_write(struct mb_serve *s, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->watch.fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	conn_close(s, c);
}

/* A refresh that c waited for ended (or serve stops). */
static void
conn_wake(struct mb_cache_waiter *w, const char *line)
{
	struct conn *c = (struct conn *)((char *)w -
					 offsetof(struct conn, waiter));
	conn_answer(c->srv, c, line);
}

static bool
is_admin(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static bool
uid_allowed(const struct mb_account *acct, uid_t uid)
{
	if (is_admin(uid))
		return true;
	for (size_t i = 0; i < acct->n_allow_uids; i++) {
		if (acct->allow_uids[i] == uid)
			return true;
	}
	return false;
}

/* The same answer for an account that does not exist and one the uid
 * may not use, so that other users learn nothing; the log has the
 * details, and root or serve's own user get them in the answer. */
static void
answer_unavailable_account(struct mb_serve *s, const struct mb_account *acct,
			   const char *name, struct conn *c, time_t now)
{
	const struct mb_config *cfg = mb_cache_config(s->cache);
	char msg[MB_IPC_TEXT_MAX + 1];
	bool log = slot_may_log(s, c->slot, now);

	if (acct == NULL) {
		if (log)
			mb_log(LOG_NOTICE, "uid %u asked for unknown account "
			       "\"%s\"", (unsigned)c->uid, name);
		if (is_admin(c->uid)) {
			snprintf(msg, sizeof(msg), "no account \"%s\" in %s",
				 name, cfg->path);
			mb_ipc_format_err(s->line, MB_IPC_LINE_MAX + 1,
					  MB_IPC_ERR_UNKNOWN_ACCOUNT, msg);
			return;
		}
	} else if (log) {
		mb_log(LOG_WARNING, "uid %u may not use account \"%s\"; add "
		       "it to \"allow\" in [%s] of %s", (unsigned)c->uid,
		       name, name, cfg->path);
	}
	snprintf(msg, sizeof(msg), "account \"%s\" is not available to uid "
		 "%u (mailbearer serve's log says why)", name,
		 (unsigned)c->uid);
	mb_ipc_format_err(s->line, MB_IPC_LINE_MAX + 1, MB_IPC_ERR_DENIED,
			  msg);
}

/* Answers c's request, now or (waiting for a refresh) later. */
static void
conn_request(struct mb_serve *s, struct conn *c, size_t len)
{
	struct mb_ipc_request req;
	const struct mb_account *acct;
	struct mb_cache_entry *e;
	const char *why = NULL;
	time_t now = time(NULL);
	long wait = 0;

	if (mb_ipc_parse_request(c->buf, len, &req, &why) < 0) {
		if (slot_may_log(s, c->slot, now))
			mb_log(LOG_NOTICE, "uid %u (pid %ld): bad request: %s",
			       (unsigned)c->uid, (long)c->pid, why);
		mb_ipc_format_err(s->line, MB_IPC_LINE_MAX + 1,
				  MB_IPC_ERR_BAD_REQUEST, why);
		goto answer;
	}
	acct = mb_cache_find(s->cache, req.account, &e);
	if (acct == NULL || !uid_allowed(acct, c->uid)) {
		answer_unavailable_account(s, acct, req.account, c, now);
	} else if (req.type == MB_IPC_REQ_REJECTED) {
		mb_cache_answer_rejected(s->cache, acct, e, req.token,
					 req.login, c->uid,
					 slot_may_report(c->slot, now), now,
					 s->line, MB_IPC_LINE_MAX + 1);
	} else {
		mb_log(LOG_DEBUG, "account %s: uid %u asks", acct->name,
		       (unsigned)c->uid);
		if (!mb_cache_answer_token(s->cache, acct, e, now,
					   &c->waiter, &wait, s->line,
					   MB_IPC_LINE_MAX + 1)) {
			mb_wipe(c->buf, c->len);
			c->len = 0;
			c->state = CONN_WAIT;
			/* a client that gives up is noticed (a full close:
			 * one that only shut its writing side still reads) */
			if (watch_set(s, &c->watch, &c->events,
				      EPOLLHUP) < 0)
				conn_close(s, c);
			else
				conn_deadline(s, c, wait);
			return;
		}
	}
answer:
	conn_answer(s, c, s->line);
	mb_wipe(s->line, strlen(s->line));
}

/* Reads what c sent; answers once the line is whole. */
static void
conn_read(struct mb_serve *s, struct conn *c)
{
	for (;;) {
		ssize_t n;
		char *lf;

		if (c->len == c->buf_size) {
			size_t size = c->buf_size * 4;
			char *b;

			if (c->buf_size >= MB_IPC_LINE_MAX) {
				mb_ipc_format_err(s->line, MB_IPC_LINE_MAX + 1,
						  MB_IPC_ERR_BAD_REQUEST,
						  "request longer than 32768 "
						  "bytes");
				if (slot_may_log(s, c->slot, time(NULL)))
					mb_log(LOG_NOTICE, "uid %u (pid %ld): "
					       "bad request: longer than "
					       "32768 bytes", (unsigned)c->uid,
					       (long)c->pid);
				conn_answer(s, c, s->line);
				return;
			}
			if (size > MB_IPC_LINE_MAX)
				size = MB_IPC_LINE_MAX;
			b = mb_xmalloc(size);
			memcpy(b, c->buf, c->len);
			mb_wipe(c->buf, c->len);
			if (c->buf != c->small)
				free(c->buf);
			c->buf = b;
			c->buf_size = size;
		}
		n = recv(c->watch.fd, c->buf + c->len, c->buf_size - c->len,
			 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->events == 0 &&
			    watch_set(s, &c->watch, &c->events, EPOLLIN) < 0)
				conn_close(s, c);
			return;
		}
		if (n <= 0) {
			mb_log(LOG_DEBUG, "uid %u: no complete request",
			       (unsigned)c->uid);
			conn_close(s, c);
			return;
		}
		lf = memchr(c->buf + c->len, '\n', (size_t)n);
		c->len += (size_t)n;
		if (lf != NULL) {
			conn_request(s, c, (size_t)(lf - c->buf + 1));
			return;
		}
	}
}

/* Tells a refused client why, without reading from it, and closes. */
static void
refuse(struct mb_serve *s, int fd, struct uid_slot *u, uid_t uid,
       enum mb_ipc_err code, const char *why)
{
	char line[MB_IPC_TEXT_MAX + 64];

	if (slot_may_log(s, u, time(NULL)))
		mb_log(LOG_WARNING, "refused a connection of uid %u: %s",
		       (unsigned)uid, why);
	mb_ipc_format_err(line, sizeof(line), code, why);
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
conn_accept(struct mb_serve *s, int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct uid_slot *u;
	struct conn *c;
	char msg[160];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		mb_log(LOG_ERR, "SO_PEERCRED: %s", mb_errstr(errno));
		close(fd);
		return;
	}
	if (!mb_cache_uid_known(s->cache, cred.uid)) {
		snprintf(msg, sizeof(msg), "uid %u may not use this mailbearer "
			 "serve", (unsigned)cred.uid);
		refuse(s, fd, &s->strangers, cred.uid, MB_IPC_ERR_DENIED, msg);
		return;
	}
	u = uid_slot(s, cred.uid);
	if (u->conns >= s->opt.max_per_uid) {
		snprintf(msg, sizeof(msg), "uid %u already has %d connections "
			 "open (the limit, --max-per-uid)", (unsigned)cred.uid,
			 s->opt.max_per_uid);
		refuse(s, fd, u, cred.uid, MB_IPC_ERR_UNAVAILABLE, msg);
		return;
	}
	c = mb_xmalloc(sizeof(*c));
	memset(c, 0, offsetof(struct conn, small));
	c->watch.kind = WATCH_CONN;
	c->watch.fd = fd;
	c->srv = s;
	c->waiter.answer = conn_wake;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->slot = u;
	c->buf = c->small;
	c->buf_size = sizeof(c->small);
	c->deadline = mono_ms() + s->opt.request_timeout_ms;
	u->conns++;
	s->n_conns++;
	heap_push(s, c);
	/* the request is usually there already: no epoll round trip */
	conn_read(s, c);
}

static void
accept_some(struct mb_serve *s, int lfd)
{
	for (int i = 0; i < MB_ACCEPT_BATCH; i++) {
		int fd;

		if (s->n_conns >= s->opt.max_clients) {
			listen_enable(s, false);
			return;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			s->emfile = false;
			conn_accept(s, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			/* once per shortage, not every pause */
			if (!s->emfile)
				mb_log(LOG_WARNING, "accept: %s; pausing "
				       "%d ms at a time until descriptors "
				       "free", mb_errstr(errno),
				       MB_EMFILE_PAUSE_MS);
			s->emfile = true;
			listen_enable(s, false);
			s->resume_at = mono_ms() + MB_EMFILE_PAUSE_MS;
			return;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			mb_log(LOG_WARNING, "accept: %s", mb_errstr(errno));
		return;
	}
}

static void
conn_event(struct mb_serve *s, struct conn *c, uint32_t ev)
{
	switch (c->state) {
	case CONN_READ:
		conn_read(s, c);
		break;
	case CONN_WAIT:
		if (ev & (EPOLLHUP | EPOLLERR))
			conn_close(s, c);
		break;
	case CONN_WRITE:
	default:
		conn_write(s, c);
		break;
	}
}

/* Deadlines that passed; returns ms until the next one, or -1. */
static long
expire(struct mb_serve *s)
{
	long long now = mono_ms();

	while (s->heap_size > 0 && s->heap[0]->deadline <= now) {
		struct conn *c = s->heap[0];

		if (c->state == CONN_WAIT) {
			mb_cache_unwait(s->cache, &c->waiter, s->line,
					MB_IPC_LINE_MAX + 1);
			conn_answer(s, c, s->line);
			mb_wipe(s->line, strlen(s->line));
		} else {
			mb_log(LOG_DEBUG, "uid %u: %s", (unsigned)c->uid,
			       c->state == CONN_READ ? "no complete request "
			       "in time" : "did not take its answer in time");
			conn_close(s, c);
		}
	}
	if (s->resume_at != 0 && s->resume_at <= now) {
		s->resume_at = 0;
		if (!s->stop)
			listen_enable(s, s->n_conns < s->opt.max_clients);
	}
	if (s->heap_size == 0 && s->resume_at == 0)
		return -1;
	if (s->heap_size == 0)
		return (long)(s->resume_at - now);
	if (s->resume_at != 0 && s->resume_at < s->heap[0]->deadline)
		return (long)(s->resume_at - now);
	return (long)(s->heap[0]->deadline - now);
}

/* --- refreshes ------------------------------------------------------------ */

static void
pool_run(struct mb_pool_work *w)
{
	mb_cache_job_run(((struct pool_job *)w)->job);
}

static bool
runner_start(void *ctx, struct mb_cache_job *job)
{
	struct mb_serve *s = ctx;
	struct pool_job *pj = mb_xmalloc(sizeof(*pj));

	pj->work.run = pool_run;
	pj->job = job;
	if (mb_pool_submit(s->pool, &pj->work))
		return true;
	free(pj);
	return false;
}

static bool
runner_peek(void *ctx, const struct mb_account *acct, struct mb_access *out)
{
	(void)ctx;
	return mb_token_peek(acct, out);
}

/* --- the fleet's watch ---------------------------------------------------- */

/* The watch of the current configuration's fleet, if it has one. */
static void
follow_start(struct mb_serve *s)
{
	struct follow *f;
	uint32_t cur = 0;

	if (mb_cache_config(s->cache)->fleet == NULL)
		return;
	f = mb_xcalloc(1, sizeof(*f));
	f->g = mb_cache_hold(s->cache);
	f->fw = mb_fleet_watch_start(mb_cache_gen_config(f->g));
	if (f->fw == NULL)
		goto fail;
	f->watch.kind = WATCH_FLEET;
	f->watch.fd = mb_fleet_watch_fd(f->fw);
	if (watch_set(s, &f->watch, &cur, EPOLLIN) < 0)
		goto fail;
	f->next = s->follows;
	s->follows = f;
	return;
fail:
	mb_fleet_watch_free(&f->fw);
	mb_cache_release(f->g);
	free(f);
}

static void
follow_free(struct mb_serve *s, struct follow *f)
{
	struct follow **p;

	for (p = &s->follows; *p != NULL; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	/* closing its eventfd takes it out of the epoll set */
	mb_fleet_watch_free(&f->fw);
	mb_cache_release(f->g);
	free(f);
}

/* What a watch posted: states to the cache (only the current
 * configuration's), the cluster's state, its end. */
static void
follow_event(struct mb_serve *s, struct follow *f)
{
	struct mb_fleet_event *list, *ev;
	bool ended, current = f == s->follows && !s->stop;
	time_t now = time(NULL);

	list = mb_fleet_watch_take(f->fw, &ended);
	for (ev = list; ev != NULL && current; ev = ev->next) {
		switch (ev->kind) {
		case MB_FLEET_STATE:
			mb_cache_offer(s->cache, ev->account, &ev->access,
				       now);
			break;
		case MB_FLEET_DOWN:
		case MB_FLEET_UP:
			mb_cache_fleet(s->cache, ev->kind == MB_FLEET_UP,
				       ev->error, now);
			break;
		default:
			break;
		}
	}
	mb_fleet_events_free(list);
	if (ended)
		follow_free(s, f);
}

/* Hands finished jobs (a list) back to the cache. */
static void
jobs_done(struct mb_serve *s, struct mb_pool_work *list, bool cancelled)
{
	while (list != NULL) {
		struct pool_job *pj = (struct pool_job *)list;

		list = list->next;
		if (cancelled) {
			struct mb_cache_result *r =
				mb_cache_job_result(pj->job);

			free(r->error);
			r->error = mb_xstrdup("cancelled (mailbearer is "
					      "shutting down)");
		}
		/* a fleet's account got no new token: is it the cluster? */
		if (mb_cache_job_done(s->cache, pj->job, time(NULL)) &&
		    !cancelled && s->follows != NULL)
			mb_fleet_watch_probe(s->follows->fw);
		free(pj);
	}
}

/* --- the loop ------------------------------------------------------------- */

static void
reload(struct mb_serve *s)
{
	struct mb_config *cfg = NULL;
	char *error = NULL;

	if (mb_config_load(s->config_path, &cfg, &error) < 0) {
		mb_log(LOG_ERR, "reload failed, keeping the running "
		       "configuration: %s",
		       error != NULL ? error : s->config_path);
		free(error);
		return;
	}
	mb_cache_reload(s->cache, &cfg, time(NULL));
	/* the old watch ends without waiting out its stream; its
	 * configuration lives until it has */
	if (s->follows != NULL)
		mb_fleet_watch_stop(s->follows->fw);
	follow_start(s);
	mb_log(LOG_NOTICE, "reloaded %s", s->config_path);
}

static void
on_signal(struct mb_serve *s)
{
	struct signalfd_siginfo si;

	if (read(s->sig_watch.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(s);
		} else {
			mb_log(LOG_NOTICE, "signal %u: shutting down",
			       (unsigned)si.ssi_signo);
			s->stop = true;
		}
	}
}

/* One round: waits for events (at most timeout_ms, -1: no limit) and
 * handles them.  -1 if epoll fails. */
static int
loop_once(struct mb_serve *s, long timeout_ms)
{
	struct epoll_event ev[64];
	int n;

	n = epoll_wait(s->ep, ev, 64, (int)timeout_ms);
	if (n < 0 && errno != EINTR) {
		mb_log(LOG_ERR, "epoll_wait: %s", mb_errstr(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;

		switch (w->kind) {
		case WATCH_LISTEN:
			if (s->listening && !s->stop)
				accept_some(s, w->fd);
			break;
		case WATCH_SIGNAL:
			on_signal(s);
			break;
		case WATCH_POOL:
			jobs_done(s, mb_pool_take_done(s->pool), false);
			break;
		case WATCH_FLEET:
			follow_event(s, (struct follow *)w);
			break;
		case WATCH_CONN:
		default:
			if (!((struct conn *)w)->closed)
				conn_event(s, (struct conn *)w,
					   ev[i].events);
			break;
		}
	}
	reap(s);
	return 0;
}

static long
min_timeout(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int
mb_serve_run(struct mb_serve *s, const int *listen_fds, int n_listen,
	     int sigfd, const char *config_path)
{
	uint32_t cur = 0;

	s->config_path = config_path;
	s->listen = mb_xcalloc((size_t)n_listen, sizeof(*s->listen));
	s->n_listen = n_listen;
	for (int i = 0; i < n_listen; i++) {
		s->listen[i].kind = WATCH_LISTEN;
		s->listen[i].fd = listen_fds[i];
	}
	s->sig_watch.kind = WATCH_SIGNAL;
	s->sig_watch.fd = sigfd;
	if (watch_set(s, &s->sig_watch, &cur, EPOLLIN) < 0)
		return EX_OSERR;
	listen_enable(s, true);
	while (!s->stop) {
		time_t now = time(NULL);
		time_t next = mb_cache_tick(s->cache, now);
		long timeout = expire(s);

		timeout = min_timeout(timeout, next > now ?
				      (long)(next - now) * 1000 : 0);
		if (loop_once(s, timeout) < 0)
			return EX_OSERR;
	}
	return 0;
}

/* Answers every client still waiting for a refresh (also on an account
 * an earlier reload removed), at once. */
static void
stop_waiters(struct mb_serve *s)
{
	size_t n = 0;
	struct conn **wait = mb_xcalloc(s->heap_size + 1, sizeof(*wait));

	/* answering closes connections, which reorders the heap: collect
	 * first (closed ones are freed only by reap()) */
	for (size_t i = 0; i < s->heap_size; i++) {
		if (s->heap[i]->state == CONN_WAIT)
			wait[n++] = s->heap[i];
	}
	for (size_t i = 0; i < n; i++) {
		struct conn *c = wait[i];

		if (c->closed || c->waiter.e == NULL)
			continue;
		mb_cache_unwait(s->cache, &c->waiter, s->line,
				MB_IPC_LINE_MAX + 1);
		conn_answer(s, c, s->line);
		mb_wipe(s->line, strlen(s->line));
	}
	free(wait);
	reap(s);
}

bool
mb_serve_stop(struct mb_serve *s, int grace_ms)
{
	long long end = mono_ms() + grace_ms;

	if (s == NULL)
		return true;
	s->stop = true;
	listen_enable(s, false);
	mb_cache_stop(s->cache, time(NULL));
	/* every client still waiting (also on an account an earlier reload
	 * removed) is told at once */
	stop_waiters(s);
	mb_cancel_all();
	for (struct follow *f = s->follows; f != NULL; f = f->next)
		mb_fleet_watch_stop(f->fw);
	jobs_done(s, mb_pool_stop(s->pool), true);
	/* the refreshes in flight end (cancelled), answers are written */
	while (mb_cache_jobs(s->cache) > 0 || s->heap_size > 0) {
		long left = (long)(end - mono_ms());

		expire(s);
		if (left <= 0 || loop_once(s, left) < 0)
			break;
	}
	while (s->heap_size > 0)
		conn_close(s, s->heap[0]);
	reap(s);
	return mb_cache_jobs(s->cache) == 0;
}

/* The descriptor limit bounds the connections: raise the soft limit as
 * far as the hard one allows, and keep 64 for everything else. */
static void
fit_fd_limit(struct mb_serve_options *o)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536)
		rl.rlim_cur = 65536;
	else
		rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)o->max_clients + 64 > rl.rlim_cur) {
		/* 64 for everything else, half of a tiny limit */
		o->max_clients = rl.rlim_cur > 128 ?
				 (int)(rl.rlim_cur - 64) :
				 (int)(rl.rlim_cur / 2);
		if (o->max_clients < 1)
			o->max_clients = 1;
		mb_log(LOG_NOTICE, "at most %d connections at once (the "
		       "descriptor limit)", o->max_clients);
	}
}

struct mb_serve *
mb_serve_new(struct mb_config **cfg, const struct mb_serve_options *opts)
{
	struct mb_serve *s = mb_xcalloc(1, sizeof(*s));
	struct mb_cache_options co;
	struct mb_cache_runner runner;
	uint32_t cur = 0;

	s->opt = *opts;
	s->ep = -1;
	fit_fd_limit(&s->opt);
	s->strangers.uid = (uid_t)-1;
	s->heap = mb_xcalloc((size_t)s->opt.max_clients, sizeof(*s->heap));
	s->line = mb_xmalloc(MB_IPC_LINE_MAX + 1);
	s->line[0] = '\0';
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		mb_log(LOG_ERR, "epoll_create1: %s", mb_errstr(errno));
		goto fail;
	}
	s->pool = mb_pool_new();
	if (s->pool == NULL)
		goto fail;
	s->pool_watch.kind = WATCH_POOL;
	s->pool_watch.fd = mb_pool_fd(s->pool);
	if (watch_set(s, &s->pool_watch, &cur, EPOLLIN) < 0)
		goto fail;
	co.keepalive = opts->keepalive;
	runner.start = runner_start;
	runner.peek = runner_peek;
	runner.ctx = s;
	s->cache = mb_cache_new(cfg, &co, &runner);
	mb_cache_warm(s->cache, time(NULL));
	follow_start(s);
	return s;
fail:
	s->stop = true;
	mb_serve_free(&s);
	return NULL;
}

void
mb_serve_free(struct mb_serve **sp)
{
	struct mb_serve *s = *sp;

	if (s == NULL)
		return;
	while (s->heap_size > 0)
		conn_close(s, s->heap[0]);
	reap(s);
	if (s->pool != NULL)
		jobs_done(s, mb_pool_stop(s->pool), true);
	mb_pool_free(&s->pool);
	while (s->follows != NULL)
		follow_free(s, s->follows);
	mb_cache_free(&s->cache);
	if (s->ep >= 0)
		close(s->ep);
	if (s->line != NULL) {
		mb_wipe(s->line, MB_IPC_LINE_MAX + 1);
		free(s->line);
	}
	free(s->heap);
	for (size_t i = 0; i < s->n_slots; i++)
		free(s->slots[i]);
	free(s->slots);
	free(s->listen);
	free(s);
	*sp = NULL;
}

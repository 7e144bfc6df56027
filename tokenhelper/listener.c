#include <config.h>

#include "listener.h"

#include "ipc-proto.h"
#include "errtext.h"
#include "log.h"
#include "token-cache.h"
#include "wipe.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MB_WRITE_TIMEOUT_MS	5000
/* A refused stranger or a uid over its cap is logged at most this often
 * (seconds); the others are counted in the next line. */
#define MB_REFUSE_LOG_EVERY	60

/* A uid over its cap waits here, without a thread, for one of its own
 * connections to end: at most MB_QUEUE_PER_UID connections of one uid,
 * each at most MB_QUEUE_WAIT_MS.  So a burst from one busy uid (Postfix's
 * smtp processes all run as postfix) is served a little later instead of
 * refused, and still cannot take every slot from the others. */
#define MB_QUEUE_PER_UID	1024
#define MB_QUEUE_WAIT_MS	10000

struct uid_count {
	uid_t uid;
	int n;		/* connections being served */
	int queued;	/* waiting in srv->queue */
};

struct mb_listener {
	struct mb_listener_options opt;
	struct mb_cache *cache;
	int wake_fd;

	pthread_mutex_t mu;
	pthread_cond_t cond;	/* active went down */
	int active;
	struct uid_count *uids;	/* max_clients slots; n == queued == 0: free */
	struct srv_conn *queue;	/* oldest first */
	struct srv_conn **queue_tail;
	time_t refuse_logged;
	unsigned long refused;
};

struct srv_conn {
	struct mb_listener *srv;
	int fd;
	uid_t uid;
	pid_t pid;
	struct srv_conn *next;		/* in srv->queue */
	struct timespec since;		/* CLOCK_MONOTONIC, when queued */
};

void
mb_listener_options_default(struct mb_listener_options *opts)
{
	opts->keepalive = 7L * 24 * 3600;
	opts->max_clients = 64;
	opts->max_per_uid = 16;
	opts->request_timeout_ms = 3000;
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
answer_unavailable_account(const struct mb_config *cfg,
			   const struct mb_account *acct, const char *name,
			   uid_t uid, char *out, size_t out_size)
{
	char msg[MB_IPC_TEXT_MAX + 1];

	if (acct == NULL) {
		mb_log(LOG_NOTICE, "uid %u asked for unknown account \"%s\"",
		       (unsigned)uid, name);
		if (is_admin(uid)) {
			snprintf(msg, sizeof(msg), "no account \"%s\" in %s",
				 name, cfg->path);
			mb_ipc_format_err(out, out_size,
					  MB_IPC_ERR_UNKNOWN_ACCOUNT, msg);
			return;
		}
	} else {
		mb_log(LOG_WARNING, "uid %u may not use account \"%s\"; add "
		       "it to \"allow\" in [%s] of %s", (unsigned)uid, name,
		       name, cfg->path);
	}
	snprintf(msg, sizeof(msg), "account \"%s\" is not available to uid "
		 "%u (mailbearer serve's log says why)", name, (unsigned)uid);
	mb_ipc_format_err(out, out_size, MB_IPC_ERR_DENIED, msg);
}

static void
handle_request(struct mb_listener *srv, const struct mb_ipc_request *req,
	       uid_t uid, char *out, size_t out_size)
{
	struct mb_cache_gen *g = mb_cache_acquire(srv->cache);
	const struct mb_account *acct;
	struct mb_cache_entry *e;

	acct = mb_cache_find(g, req->account, &e);
	if (acct == NULL || !uid_allowed(acct, uid)) {
		answer_unavailable_account(mb_cache_config(g), acct,
					   req->account, uid, out, out_size);
	} else if (req->type == MB_IPC_REQ_REJECTED) {
		mb_cache_answer_rejected(srv->cache, g, acct, e, req->token,
					 req->login, uid, out, out_size);
	} else {
		mb_cache_answer_token(srv->cache, g, acct, e, out, out_size);
		mb_log(LOG_DEBUG, "account %s: answered uid %u", acct->name,
		       (unsigned)uid);
	}
	mb_cache_release(g);
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Reads one line with a deadline for the whole request.  Returns its
 * length (LF included), 0 on EOF/timeout/error, -1 when the limit was
 * reached without a LF. */
static long
read_request(int fd, char *buf, size_t size, int timeout_ms)
{
	struct timespec start;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (len < size) {
		struct pollfd p = { fd, POLLIN, 0 };
		long elapsed = elapsed_ms(&start);
		ssize_t n;
		char *lf;
		int rc;

		if (elapsed >= timeout_ms)
			return 0;
		rc = poll(&p, 1, (int)(timeout_ms - elapsed));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return 0;
		n = recv(fd, buf + len, size - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		lf = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (lf != NULL)
			return (long)(lf - buf + 1);
	}
	return -1;
}

static void
write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t n;

		if (poll(&p, 1, MB_WRITE_TIMEOUT_MS) <= 0)
			return;
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void
serve_connection(struct mb_listener *srv, const struct srv_conn *c)
{
	char *in = malloc(MB_IPC_LINE_MAX);
	char *out = malloc(MB_IPC_LINE_MAX + 1);
	struct mb_ipc_request req;
	const char *why = NULL;
	long len;

	if (in == NULL || out == NULL) {
		mb_log(LOG_ERR, "uid %u: out of memory", (unsigned)c->uid);
		goto out;
	}
	len = read_request(c->fd, in, MB_IPC_LINE_MAX,
			   srv->opt.request_timeout_ms);
	if (len == 0) {
		mb_log(LOG_DEBUG, "uid %u: no complete request",
		       (unsigned)c->uid);
		goto out;
	}
	if (len < 0) {
		why = "request longer than 32768 bytes";
	} else if (mb_ipc_parse_request(in, (size_t)len, &req, &why) == 0) {
		handle_request(srv, &req, c->uid, out, MB_IPC_LINE_MAX + 1);
		why = NULL;
	}
	if (why != NULL) {
		mb_log(LOG_NOTICE, "uid %u (pid %ld): bad request: %s",
		       (unsigned)c->uid, (long)c->pid, why);
		mb_ipc_format_err(out, MB_IPC_LINE_MAX + 1,
				  MB_IPC_ERR_BAD_REQUEST, why);
	}
	write_all(c->fd, out, strlen(out));
out:
	if (in != NULL) {
		mb_wipe(in, MB_IPC_LINE_MAX);
		free(in);
	}
	if (out != NULL) {
		mb_wipe(out, MB_IPC_LINE_MAX + 1);
		free(out);
	}
}

/* srv->mu held.  The uid's slot (creating it), or NULL if none is free
 * (cannot happen while every slot's uid has a connection or a queued
 * one, which never exceed max_clients uids... but be safe). */
static struct uid_count *
uid_slot(struct mb_listener *srv, uid_t uid)
{
	struct uid_count *free_slot = NULL;

	for (int i = 0; i < srv->opt.max_clients; i++) {
		struct uid_count *u = &srv->uids[i];

		if ((u->n > 0 || u->queued > 0) && u->uid == uid)
			return u;
		if (u->n == 0 && u->queued == 0 && free_slot == NULL)
			free_slot = u;
	}
	if (free_slot != NULL)
		free_slot->uid = uid;
	return free_slot;
}

static void
wake_main_loop(struct mb_listener *srv)
{
	uint64_t one = 1;

	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		mb_log(LOG_WARNING, "wake-up: %s", mb_errstr(errno));
}

static bool start_thread(struct srv_conn *c);
static void refuse(struct mb_listener *srv, int fd, uid_t uid,
		   enum mb_ipc_err code, const char *msg);

/* srv->mu held.  Takes out of the queue the connections that waited too
 * long (into *expired) and the oldest one whose uid is under its cap
 * while a slot is free (returned, counted as active), or NULL. */
static struct srv_conn *
queue_next(struct mb_listener *srv, struct srv_conn **expired)
{
	struct srv_conn **pp = &srv->queue, *c;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while ((c = *pp) != NULL) {
		struct uid_count *u = uid_slot(srv, c->uid);
		long waited = (now.tv_sec - c->since.tv_sec) * 1000 +
			(now.tv_nsec - c->since.tv_nsec) / 1000000;
		bool go = u != NULL && u->n < srv->opt.max_per_uid &&
			srv->active < srv->opt.max_clients;

		if (!go && waited < MB_QUEUE_WAIT_MS) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		if (srv->queue_tail == &c->next)
			srv->queue_tail = pp;
		if (u != NULL)
			u->queued--;
		if (go) {
			c->next = NULL;
			u->n++;
			srv->active++;
			return c;
		}
		c->next = *expired;
		*expired = c;
	}
	return NULL;
}

/* Starts what the queue allows and refuses what waited too long. */
static void
queue_run(struct mb_listener *srv)
{
	for (;;) {
		struct srv_conn *expired = NULL, *c;
		char msg[128];

		pthread_mutex_lock(&srv->mu);
		c = queue_next(srv, &expired);
		pthread_mutex_unlock(&srv->mu);
		while (expired != NULL) {
			struct srv_conn *x = expired;

			expired = x->next;
			snprintf(msg, sizeof(msg), "uid %u has had %d "
				 "connections open for %d s (the limit, "
				 "--max-per-uid)", (unsigned)x->uid,
				 srv->opt.max_per_uid, MB_QUEUE_WAIT_MS / 1000);
			refuse(srv, x->fd, x->uid, MB_IPC_ERR_UNAVAILABLE, msg);
			free(x);
		}
		if (c == NULL)
			return;
		if (!start_thread(c)) {
			uid_t uid = c->uid;

			close(c->fd);
			free(c);
			pthread_mutex_lock(&srv->mu);
			srv->active--;
			uid_slot(srv, uid)->n--;
			pthread_mutex_unlock(&srv->mu);
		}
	}
}

void
mb_listener_tick(struct mb_listener *srv)
{
	queue_run(srv);
}

bool
mb_listener_waiting(struct mb_listener *srv)
{
	bool w;

	pthread_mutex_lock(&srv->mu);
	w = srv->queue != NULL;
	pthread_mutex_unlock(&srv->mu);
	return w;
}

static void
conn_end(struct mb_listener *srv, uid_t uid)
{
	bool was_busy;
	struct uid_count *u;

	pthread_mutex_lock(&srv->mu);
	was_busy = srv->active >= srv->opt.max_clients;
	srv->active--;
	u = uid_slot(srv, uid);
	if (u != NULL && u->n > 0)
		u->n--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mu);
	queue_run(srv);
	if (was_busy)
		wake_main_loop(srv);
}

static void *
conn_thread(void *arg)
{
	struct srv_conn *c = arg;
	struct mb_listener *srv = c->srv;
	uid_t uid = c->uid;

	serve_connection(srv, c);
	close(c->fd);
	free(c);
	conn_end(srv, uid);
	return NULL;
}

/* Tells a refused client why, without reading from it, and closes. */
static void
refuse(struct mb_listener *srv, int fd, uid_t uid, enum mb_ipc_err code,
       const char *msg)
{
	char line[MB_IPC_TEXT_MAX + 64];
	time_t now = time(NULL);
	unsigned long others = 0;
	bool log = false;

	if (mb_ipc_format_err(line, sizeof(line), code, msg) > 0)
		(void)send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	pthread_mutex_lock(&srv->mu);
	if (now >= srv->refuse_logged + MB_REFUSE_LOG_EVERY) {
		log = true;
		others = srv->refused;
		srv->refused = 0;
		srv->refuse_logged = now;
	} else {
		srv->refused++;
	}
	pthread_mutex_unlock(&srv->mu);
	if (log)
		mb_log(LOG_NOTICE, "refused a connection from uid %u: %s "
		       "(%lu more refused since the last such line)",
		       (unsigned)uid, msg, others);
}

static bool
start_thread(struct srv_conn *c)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&t, &attr, conn_thread, c);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		mb_log(LOG_ERR, "cannot start a thread: %s", mb_errstr(rc));
	return rc == 0;
}

void
mb_listener_accept(struct mb_listener *srv, int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct mb_cache_gen *g;
	struct uid_count *u;
	struct srv_conn *c;
	char msg[160];
	bool known;
	int admit;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		mb_log(LOG_ERR, "SO_PEERCRED: %s", mb_errstr(errno));
		close(fd);
		return;
	}
	g = mb_cache_acquire(srv->cache);
	known = mb_cache_uid_known(g, cred.uid);
	mb_cache_release(g);
	if (!known) {
		snprintf(msg, sizeof(msg), "uid %u may not use this mailbearer "
			 "serve", (unsigned)cred.uid);
		refuse(srv, fd, cred.uid, MB_IPC_ERR_DENIED, msg);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		refuse(srv, fd, cred.uid, MB_IPC_ERR_INTERNAL, "out of memory");
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	pthread_mutex_lock(&srv->mu);
	u = uid_slot(srv, cred.uid);
	if (u != NULL && u->n < srv->opt.max_per_uid && u->queued == 0) {
		u->n++;
		srv->active++;
		admit = 1;
	} else if (u != NULL &&
		   u->queued < MB_QUEUE_PER_UID) {
		u->queued++;
		clock_gettime(CLOCK_MONOTONIC, &c->since);
		*srv->queue_tail = c;
		srv->queue_tail = &c->next;
		admit = 0;
	} else {
		admit = -1;
	}
	pthread_mutex_unlock(&srv->mu);
	if (admit == 0) {
		queue_run(srv);	/* a slot may have freed meanwhile */
		return;
	}
	if (admit < 0) {
		free(c);
		snprintf(msg, sizeof(msg), "uid %u already has %d connections "
			 "open and %d waiting (the limit, --max-per-uid)",
			 (unsigned)cred.uid, srv->opt.max_per_uid,
			 MB_QUEUE_PER_UID);
		refuse(srv, fd, cred.uid, MB_IPC_ERR_UNAVAILABLE, msg);
		return;
	}
	if (!start_thread(c)) {
		close(fd);
		free(c);
		conn_end(srv, cred.uid);
	}
}

bool
mb_listener_busy(struct mb_listener *srv)
{
	bool busy;

	pthread_mutex_lock(&srv->mu);
	busy = srv->active >= srv->opt.max_clients;
	pthread_mutex_unlock(&srv->mu);
	return busy;
}

int
mb_listener_wake_fd(const struct mb_listener *srv)
{
	return srv->wake_fd;
}

void
mb_listener_wake_clear(struct mb_listener *srv)
{
	uint64_t v;

	while (read(srv->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

struct mb_listener *
mb_listener_new(struct mb_config **cfg, const struct mb_listener_options *opts)
{
	struct mb_listener *srv = calloc(1, sizeof(*srv));
	struct mb_cache_options co;

	if (srv == NULL) {
		mb_log(LOG_ERR, "out of memory");
		return NULL;
	}
	srv->opt = *opts;
	srv->wake_fd = -1;
	pthread_mutex_init(&srv->mu, NULL);
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&srv->cond, &a);
		pthread_condattr_destroy(&a);
	}
	srv->uids = calloc((size_t)opts->max_clients, sizeof(*srv->uids));
	srv->queue_tail = &srv->queue;
	srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->uids == NULL || srv->wake_fd < 0) {
		mb_log(LOG_ERR, "cannot set up the server: %s",
		       srv->uids == NULL ? "out of memory" : mb_errstr(errno));
		mb_listener_free(&srv);
		return NULL;
	}
	co.keepalive = opts->keepalive;
	srv->cache = mb_cache_new(cfg, &co);
	if (srv->cache == NULL) {
		mb_listener_free(&srv);
		return NULL;
	}
	return srv;
}

void
mb_listener_reload(struct mb_listener *srv, struct mb_config **cfg)
{
	(void)mb_cache_reload(srv->cache, cfg);
}

bool
mb_listener_stop(struct mb_listener *srv, int grace_ms)
{
	struct timespec dl;
	bool clean;

	/* waiting requests are answered at once: half a second is ample */
	clean = mb_cache_stop(srv->cache, grace_ms);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += 500000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&srv->mu);
	while (srv->active > 0) {
		if (pthread_cond_timedwait(&srv->cond, &srv->mu, &dl) ==
		    ETIMEDOUT)
			break;
	}
	clean = clean && srv->active == 0;
	pthread_mutex_unlock(&srv->mu);
	return clean;
}

void
mb_listener_free(struct mb_listener **srvp)
{
	struct mb_listener *srv = *srvp;

	if (srv == NULL)
		return;
	mb_cache_free(&srv->cache);
	while (srv->queue != NULL) {
		struct srv_conn *c = srv->queue;

		srv->queue = c->next;
		close(c->fd);
		free(c);
	}
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	free(srv->uids);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cond);
	free(srv);
	*srvp = NULL;
}

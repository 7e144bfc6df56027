/* SPDX-License-Identifier: MIT */
#include <config.h>

/* notify = COMMAND: the transitions of an account's attention, and the
 * command run for each (notify.h). */

#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errtext.h"
#include "isotime.h"
#include "log.h"
#include "provider-text.h"
#include "store.h"
#include "xalloc.h"

#define NOTIFY_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
	"/usr/bin:/sbin:/bin"
/* Longest MAILBEARER_REASON, and longest output quoted in a log line. */
#define NOTIFY_REASON_MAX 1000
#define NOTIFY_OUTPUT_MAX 200
/* serve: commands running at once; the others wait their turn. */
#define NOTIFY_MAX_RUNNING 16
/* serve: seconds before a notification that could not start (no
 * thread, no process, the notify file unreadable) is tried again. */
#define NOTIFY_RETRY 60
/* mb_notify_stop: how long the killed commands get to be reaped. */
#define NOTIFY_REAP_MS 5000

enum notify_kind {
	NK_OK,
	NK_NEEDS_AUTHORIZE,
	NK_CLIENT_REFUSED,
	NK_FAILING,
	NK_RECOVERED,
	NK_COUNT,
};

static const char *const notify_names[NK_COUNT] = {
	"ok", "needs-authorize", "client-refused", "failing", "recovered",
};

/* <account>.notify */
struct notify_side {
	enum notify_kind attention;	/* the last event sent or due */
	time_t failing_since;		/* 0: not failing */
	time_t sent[NK_COUNT];		/* when each event last ran */
};

/* One command to run: everything allocated before fork(). */
struct notify_job {
	char *account;
	const char *event;
	char *argv[4];
	char *envp[6];
};

/* What notify needs of an account, copied: serve's accounts may be freed
 * by a reload while a notification waits. */
struct notify_acct {
	char *name;
	char *state_dir;
	char *notify;
	long notify_after;
};

/* <account>.notify, open and locked, and what to write back: keep when
 * no command starts (only failing_since moves), sent once it started. */
struct notify_file {
	int fd;
	char *path;
	struct notify_side read;
	struct notify_side keep;
	struct notify_side sent;
};

/* serve: one entry per account seen, holding its latest state only, so
 * that whatever happens the queue is no longer than the account list. */
struct notify_entry {
	struct notify_entry *next;
	struct notify_acct acct;
	enum notify_kind cur;		/* the latest state observed */
	char *reason;			/* its reason (NULL for NK_OK) */
	bool pending;			/* cur is still to be decided on */
	time_t not_before;		/* pending: not before (hourly rule) */
	time_t held_until;		/* the suppression last logged */
	bool wait_logged;		/* "waits" logged for this turn */
	bool running;			/* a task of this account runs */
	pid_t pid;			/* its command (process group), or 0 */
};

/* serve: a task decides on one entry's state and runs the command. */
struct notify_task {
	struct notify_entry *e;
	struct notify_acct acct;
	enum notify_kind cur;
	char *reason;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t kick;		/* for the dispatcher */
	pthread_cond_t done;		/* a task ended */
	struct notify_entry *entries;
	int running;			/* tasks */
	bool dispatching;		/* the dispatcher thread exists */
	bool stopping;			/* mb_notify_stop was called */
	pthread_t dispatcher;
} notify_serve = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.kick = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

static time_t
notify_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return end != NULL && *end == '\0' ? timegm(&tm) : 0;
}

static enum notify_kind
notify_kind_of(const char *s)
{
	int k;

	for (k = 0; k < NK_COUNT; k++) {
		if (strcmp(s, notify_names[k]) == 0)
			return (enum notify_kind)k;
	}
	return NK_OK;
}

/* Reads the file's "key=value" lines; anything unknown is ignored (a
 * damaged file at worst repeats a notification). */
static void
notify_side_read(int fd, struct notify_side *s)
{
	char buf[1024], *line, *next, *eq;
	ssize_t n;
	int k;

	memset(s, 0, sizeof(*s));
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "attention") == 0)
			s->attention = notify_kind_of(eq);
		else if (strcmp(line, "failing_since") == 0)
			s->failing_since = notify_parse_time(eq);
		else if (strncmp(line, "sent.", 5) == 0 &&
			 (k = notify_kind_of(line + 5)) != NK_OK)
			s->sent[k] = notify_parse_time(eq);
	}
}

static void
notify_side_write(int fd, const struct notify_side *s, const char *path)
{
	char buf[1024], t[32];
	size_t len;
	int k;

	len = (size_t)snprintf(buf, sizeof(buf), "attention=%s\n",
			       notify_names[s->attention]);
	if (s->failing_since > 0) {
		mb_iso_time(s->failing_since, t, sizeof(t), "never");
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"failing_since=%s\n", t);
	}
	for (k = 1; k < NK_COUNT; k++) {
		if (s->sent[k] <= 0)
			continue;
		mb_iso_time(s->sent[k], t, sizeof(t), "never");
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"sent.%s=%s\n", notify_names[k], t);
	}
	if (pwrite(fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(fd, (off_t)len) < 0)
		mb_log(LOG_WARNING, "%s: cannot be written: %s", path,
		       mb_errstr(errno));
}

static bool
notify_side_equal(const struct notify_side *a, const struct notify_side *b)
{
	int k;

	if (a->attention != b->attention ||
	    a->failing_since != b->failing_since)
		return false;
	for (k = 0; k < NK_COUNT; k++) {
		if (a->sent[k] != b->sent[k])
			return false;
	}
	return true;
}

/* Safe to show by the one rule (provider-text.h), bounded: the reason is
 * one line of an environment variable. */
static char *
notify_clean(const char *s)
{
	return mb_provider_text(s, NOTIFY_REASON_MAX, NULL, 0);
}

/* The account's condition now; *reason_r malloc'd for the others. */
static enum notify_kind
notify_classify(const struct mb_account *a, enum mb_token_status st,
		bool stale, const char *error, char **reason_r)
{
	struct mb_state s;
	enum notify_kind k = NK_OK;
	char *err = NULL;
	const char *why = error;
	bool found;

	*reason_r = NULL;
	found = mb_store_read(a, false, &s, &err) == MB_STORE_FOUND;
	if (found && s.needs_authorize) {
		k = s.client_problem ? NK_CLIENT_REFUSED : NK_NEEDS_AUTHORIZE;
		if (s.reason != NULL)
			why = s.reason;
	} else if (st == MB_TOKEN_NEEDS_AUTHORIZE) {
		k = NK_NEEDS_AUTHORIZE;
	} else if (st != MB_TOKEN_OK || stale ||
		   (found && s.last_error != NULL)) {
		/* (a token still valid is served when a refresh fails; the
		 * state's last_error says so until one succeeds) */
		k = NK_FAILING;
		if (why == NULL)
			why = s.last_error;
	}
	if (k != NK_OK)
		*reason_r = notify_clean(why != NULL ? why : "see `mailbearer "
					 "status`");
	mb_state_clear(&s);
	free(err);
	return k;
}

/* The transition, if any, from the file's record to cur; updates it.
 * NK_OK when nothing is to be sent. */
static enum notify_kind
notify_transition(struct notify_side *s, enum notify_kind cur, time_t now,
		  long after)
{
	if (cur == NK_FAILING) {
		if (s->failing_since == 0)
			s->failing_since = now;
		if (now - s->failing_since < after ||
		    s->attention == NK_FAILING)
			return NK_OK;
	} else if (cur == NK_OK) {
		s->failing_since = 0;
		if (s->attention == NK_OK)
			return NK_OK;
		s->attention = NK_OK;
		return NK_RECOVERED;
	} else if (s->attention == cur) {
		return NK_OK;
	}
	s->attention = cur;
	return cur;
}


static void
notify_acct_clear(struct notify_acct *a)
{
	free(a->name);
	free(a->state_dir);
	free(a->notify);
	memset(a, 0, sizeof(*a));
}

static void
notify_acct_copy(struct notify_acct *to, const struct mb_account *a)
{
	to->name = mb_xstrdup(a->name);
	to->state_dir = mb_xstrdup(a->state_dir);
	to->notify = mb_xstrdup(a->notify);
	to->notify_after = a->notify_after;
}

/* Opens and locks <state_dir>/<name>.notify and reads it.  0, or -1
 * (logged). */
static int
notify_file_open(const struct notify_acct *a, struct notify_file *f)
{
	struct mb_account acct;
	char *err = NULL;

	memset(&acct, 0, sizeof(acct));
	acct.name = a->name;
	acct.state_dir = a->state_dir;
	memset(f, 0, sizeof(*f));
	f->path = mb_store_path(&acct, ".notify");
	f->fd = mb_store_open_regular(f->path, O_RDWR | O_CREAT, 0600,
				      "notify file", &err);
	if (f->fd < 0 || flock(f->fd, LOCK_EX) < 0) {
		mb_log(LOG_ERR, "account %s: no notification: %s", a->name,
		       err != NULL ? err : mb_errstr(errno));
		free(err);
		free(f->path);
		if (f->fd >= 0)
			close(f->fd);
		return -1;
	}
	notify_side_read(f->fd, &f->read);
	return 0;
}

/* Writes what became of the file (sent: the command started) and
 * unlocks it explicitly: a child forked meanwhile by another thread may
 * hold the descriptor for a moment. */
static void
notify_file_close(struct notify_file *f, bool sent)
{
	const struct notify_side *s = sent ? &f->sent : &f->keep;

	if (!notify_side_equal(&f->read, s))
		notify_side_write(f->fd, s, f->path);
	(void)flock(f->fd, LOCK_UN);
	close(f->fd);
	free(f->path);
}

/* The event to send now for the account's state cur (NK_OK: none), with
 * f->keep and f->sent set.  An event that the hourly rule holds back is
 * not consumed: *held_r is it and *due_r the time it may be sent, if the
 * account is still so then (NK_OK and 0 otherwise). */
static enum notify_kind
notify_decide(struct notify_file *f, enum notify_kind cur, time_t now,
	      long after, enum notify_kind *held_r, time_t *due_r)
{
	struct notify_side next = f->read;
	enum notify_kind ev;
	time_t last;

	*held_r = NK_OK;
	*due_r = 0;
	ev = notify_transition(&next, cur, now, after);
	f->sent = next;
	f->keep = f->read;
	f->keep.failing_since = next.failing_since;
	if (ev == NK_OK) {
		f->keep = next;
		return NK_OK;
	}
	last = f->read.sent[ev];
	if (last > 0 && now >= last && now - last < MB_NOTIFY_RATE) {
		*held_r = ev;
		*due_r = last + MB_NOTIFY_RATE;
		return NK_OK;
	}
	f->sent.sent[ev] = now;
	return ev;
}

static void
notify_log_held(const char *account, enum notify_kind held,
		const struct notify_file *f, time_t due, bool serve)
{
	char t[32], d[32];

	mb_iso_time(f->read.sent[held], t, sizeof(t), "never");
	mb_iso_time(due, d, sizeof(d), "never");
	mb_log(LOG_INFO, "account %s: %s: not notified again (the last "
	       "notification of it ran at %s; one an hour at most); %s %s "
	       "if the account is still so", account, notify_names[held], t,
	       serve ? "sent at" : "the first run after", d);
}

static void
notify_job_free(struct notify_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	free(j->account);
	for (i = 0; j->argv[i] != NULL; i++)
		free(j->argv[i]);
	for (i = 0; j->envp[i] != NULL; i++)
		free(j->envp[i]);
	free(j);
}

/* MAILBEARER_REASON for ev (since: when refreshes began to fail). */
static char *
notify_reason(enum notify_kind ev, time_t since, const char *reason)
{
	char *text, *r, t[32];

	if (reason == NULL)
		reason = "see `mailbearer status`";
	if (ev == NK_FAILING) {
		mb_iso_time(since, t, sizeof(t), "never");
		text = mb_xasprintf("refreshes have failed since %s: %s", t,
				    reason);
	} else if (ev == NK_RECOVERED) {
		text = mb_xstrdup("a token was obtained again");
	} else {
		text = mb_xstrdup(reason);
	}
	r = notify_clean(text);
	free(text);
	return r;
}

/* argv and a clean environment: PATH, HOME, the three variables. */
static struct notify_job *
notify_job_new(const struct notify_acct *a, enum notify_kind ev,
	       time_t since, const char *reason)
{
	struct notify_job *j = mb_xcalloc(1, sizeof(*j));
	const char *home = getenv("HOME");
	char *why = notify_reason(ev, since, reason);
	size_t n = 0;

	j->account = mb_xstrdup(a->name);
	j->event = notify_names[ev];
	j->argv[0] = mb_xstrdup("sh");
	j->argv[1] = mb_xstrdup("-c");
	j->argv[2] = mb_xstrdup(a->notify);
	j->envp[n++] = mb_xstrdup(NOTIFY_PATH);
	if (home != NULL && home[0] == '/' && strchr(home, '\n') == NULL)
		j->envp[n++] = mb_xasprintf("HOME=%s", home);
	j->envp[n++] = mb_xasprintf("MAILBEARER_ACCOUNT=%s", a->name);
	j->envp[n++] = mb_xasprintf("MAILBEARER_EVENT=%s", j->event);
	j->envp[n++] = mb_xasprintf("MAILBEARER_REASON=%s", why);
	free(why);
	return j;
}

/* In the child, between fork() and execve(): async-signal-safe calls
 * only (serve has threads).  Its own session, so that a timeout kills
 * everything it started; no descriptor of ours but the output pipe. */
static void
notify_child(const struct notify_job *j, int out, int devnull, long maxfd)
{
	sigset_t none;
	int fd;

	(void)setsid();
	(void)dup2(devnull, STDIN_FILENO);
	(void)dup2(out, STDOUT_FILENO);
	(void)dup2(out, STDERR_FILENO);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
		for (fd = 3; fd < maxfd; fd++)
			(void)close(fd);
	(void)signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", j->argv, j->envp);
	_exit(127);
}

static long
notify_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Collects output (the start of it) until the shell has exited or the
 * time is up; then the group is killed.  Returns the wait status, or -1
 * after a timeout. */
static int
notify_wait(pid_t pid, int fd, char *out, size_t size)
{
	struct timespec t0;
	struct pollfd p = { fd, POLLIN, 0 };
	size_t len = 0;
	char junk[512];
	ssize_t n;
	int status = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (p.fd >= 0 && poll(&p, 1, 50) > 0) {
			n = len + 1 < size ? read(fd, out + len,
						  size - len - 1) :
			    read(fd, junk, sizeof(junk));
			if (n <= 0)
				p.fd = -1;
			else if (len + 1 < size)
				len += (size_t)n;
		} else if (p.fd < 0) {
			usleep(50000);
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (notify_ms_since(&t0) >= MB_NOTIFY_TIMEOUT * 1000L) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			status = -1;
			break;
		}
	}
	out[len] = '\0';
	return status;
}

/* Starts the command: its pid (its process group too), with the read
 * end of its output in *out_r; -1 (logged) if it did not start. */
static pid_t
notify_spawn(const struct notify_job *j, int *out_r)
{
	long maxfd = sysconf(_SC_OPEN_MAX);
	int p[2], devnull;
	pid_t pid;

	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(p, O_CLOEXEC) < 0) {
		mb_log(LOG_ERR, "account %s: notify (%s) not run: %s",
		       j->account, j->event, mb_errstr(errno));
		if (devnull >= 0)
			close(devnull);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		notify_child(j, p[1], devnull, maxfd);
	close(p[1]);
	close(devnull);
	if (pid < 0) {
		mb_log(LOG_ERR, "account %s: notify (%s) not run: fork: %s",
		       j->account, j->event, mb_errstr(errno));
		close(p[0]);
		return -1;
	}
	*out_r = p[0];
	return pid;
}

/* Waits for the command started by notify_spawn and logs how it ended. */
static void
notify_finish(const struct notify_job *j, pid_t pid, int fd)
{
	char out[NOTIFY_OUTPUT_MAX + 1], *nl;
	int status;

	status = notify_wait(pid, fd, out, sizeof(out));
	close(fd);
	nl = strchr(out, '\n');
	if (nl != NULL)
		*nl = '\0';
	for (nl = out; *nl != '\0'; nl++) {
		if ((unsigned char)*nl < 0x20 || (unsigned char)*nl > 0x7e)
			*nl = ' ';
	}
	if (status == -1)
		mb_log(LOG_ERR, "account %s: notify (%s) did not finish within "
		       "%d s and was killed", j->account, j->event,
		       MB_NOTIFY_TIMEOUT);
	else if (WIFSIGNALED(status))
		mb_log(LOG_ERR, "account %s: notify (%s) was killed by signal "
		       "%d%s%s", j->account, j->event, WTERMSIG(status),
		       out[0] ? ": " : "", out);
	else if (WEXITSTATUS(status) != 0)
		mb_log(LOG_ERR, "account %s: notify (%s) failed with exit "
		       "status %d%s%s", j->account, j->event,
		       WEXITSTATUS(status), out[0] ? ": " : "", out);
	else
		mb_log(LOG_INFO, "account %s: notify (%s) ran", j->account,
		       j->event);
}

/* serve: the deadline ms from now on the condition variables' clock. */
static void
notify_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void
notify_task_free(struct notify_task *t)
{
	notify_acct_clear(&t->acct);
	free(t->reason);
	free(t);
}

/* serve: a task's thread.  Decides under the file's lock against what
 * serve or a one-shot command sent meanwhile; the command is recorded
 * as sent once it has started, and started only while serve is not
 * stopping (then the next run sends it). */
static void *
notify_task_run(void *arg)
{
	struct notify_task *t = arg;
	struct notify_entry *e = t->e;
	struct notify_job *j = NULL;
	struct notify_file f;
	enum notify_kind ev, held;
	time_t now = time(NULL), due = 0, retry = 0;
	pid_t pid = -1;
	int out = -1;

	if (notify_file_open(&t->acct, &f) < 0) {
		retry = now + NOTIFY_RETRY;
	} else {
		ev = notify_decide(&f, t->cur, now, t->acct.notify_after,
				   &held, &due);
		if (ev != NK_OK) {
			j = notify_job_new(&t->acct, ev, f.sent.failing_since,
					   t->reason);
			pthread_mutex_lock(&notify_serve.mu);
			if (!notify_serve.stopping) {
				pid = notify_spawn(j, &out);
				if (pid < 0)
					retry = now + NOTIFY_RETRY;
				else
					e->pid = pid;
			}
			pthread_mutex_unlock(&notify_serve.mu);
		}
		notify_file_close(&f, pid > 0);
	}
	if (pid > 0) {
		mb_log(LOG_NOTICE, "account %s: %s: running notify",
		       j->account, j->event);
		notify_finish(j, pid, out);
	}
	notify_job_free(j);

	pthread_mutex_lock(&notify_serve.mu);
	notify_serve.running--;
	e->running = false;
	e->pid = 0;
	if (!e->pending && (due != 0 || retry != 0)) {
		e->pending = true;
		e->not_before = due != 0 ? due : retry;
	}
	pthread_cond_broadcast(&notify_serve.kick);
	pthread_cond_broadcast(&notify_serve.done);
	pthread_mutex_unlock(&notify_serve.mu);
	notify_task_free(t);
	return NULL;
}

/* serve, under the mutex: a thread for e's latest state. */
static void
notify_task_start(struct notify_entry *e, time_t now)
{
	struct notify_task *t = mb_xcalloc(1, sizeof(*t));
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	t->e = e;
	t->acct.name = mb_xstrdup(e->acct.name);
	t->acct.state_dir = mb_xstrdup(e->acct.state_dir);
	t->acct.notify = mb_xstrdup(e->acct.notify);
	t->acct.notify_after = e->acct.notify_after;
	t->cur = e->cur;
	t->reason = e->reason != NULL ? mb_xstrdup(e->reason) : NULL;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, notify_task_run, t);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		mb_log(LOG_ERR, "account %s: notify waits: %s", e->acct.name,
		       mb_errstr(rc));
		notify_task_free(t);
		e->not_before = now + 1;
		return;
	}
	e->pending = false;
	e->wait_logged = false;
	e->running = true;
	notify_serve.running++;
}

/* serve: the dispatcher thread starts the tasks, NOTIFY_MAX_RUNNING at
 * most, each entry's when its time has come. */
static void *
notify_dispatch(void *arg)
{
	struct notify_entry *e;
	struct timespec ts;
	time_t now, next;

	(void)arg;
	pthread_mutex_lock(&notify_serve.mu);
	while (!notify_serve.stopping) {
		now = time(NULL);
		next = 0;
		for (e = notify_serve.entries; e != NULL; e = e->next) {
			if (!e->pending || e->running)
				continue;
			if (e->not_before > now) {
				if (next == 0 || e->not_before < next)
					next = e->not_before;
			} else if (notify_serve.running < NOTIFY_MAX_RUNNING) {
				notify_task_start(e, now);
				if (e->pending && (next == 0 ||
						   e->not_before < next))
					next = e->not_before;
			} else if (!e->wait_logged) {
				e->wait_logged = true;
				mb_log(LOG_INFO, "account %s: notify (%s) "
				       "waits: %d notifications are running",
				       e->acct.name, notify_names[e->cur ==
				       NK_OK ? NK_RECOVERED : e->cur],
				       NOTIFY_MAX_RUNNING);
			}
		}
		if (next != 0) {
			ts.tv_sec = next;
			ts.tv_nsec = 0;
			(void)pthread_cond_timedwait(&notify_serve.kick,
						     &notify_serve.mu, &ts);
		} else {
			pthread_cond_wait(&notify_serve.kick,
					  &notify_serve.mu);
		}
	}
	pthread_mutex_unlock(&notify_serve.mu);
	return NULL;
}

/* serve, under the mutex: a's entry, made if new, with a's settings. */
static struct notify_entry *
notify_entry_get(const struct mb_account *a)
{
	struct notify_entry *e;

	for (e = notify_serve.entries; e != NULL; e = e->next) {
		if (strcmp(e->acct.name, a->name) == 0)
			break;
	}
	if (e == NULL) {
		e = mb_xcalloc(1, sizeof(*e));
		e->next = notify_serve.entries;
		notify_serve.entries = e;
	}
	notify_acct_clear(&e->acct);
	notify_acct_copy(&e->acct, a);
	return e;
}

/* serve: the latest state of a replaces the one waiting, if any. */
static void
notify_observe_serve(const struct mb_account *a, enum notify_kind cur,
		     char *reason)
{
	struct notify_acct acct;
	struct notify_file f;
	struct notify_entry *e;
	enum notify_kind ev, held;
	time_t due;
	bool log_held = false;
	int rc;

	notify_acct_copy(&acct, a);
	rc = notify_file_open(&acct, &f);
	notify_acct_clear(&acct);
	if (rc < 0) {
		free(reason);
		return;
	}
	ev = notify_decide(&f, cur, time(NULL), a->notify_after, &held,
			   &due);
	pthread_mutex_lock(&notify_serve.mu);
	if (notify_serve.stopping) {
		/* not recorded: the next run sends it */
		pthread_mutex_unlock(&notify_serve.mu);
		notify_file_close(&f, false);
		free(reason);
		return;
	}
	e = notify_entry_get(a);
	free(e->reason);
	e->reason = reason;
	e->cur = cur;
	if (ev != NK_OK) {
		e->pending = true;
		e->not_before = 0;
	} else if (held != NK_OK) {
		e->pending = true;
		e->not_before = due;
		log_held = e->held_until != due;
		e->held_until = due;
	} else {
		e->pending = false;
	}
	if (!notify_serve.dispatching) {
		rc = pthread_create(&notify_serve.dispatcher, NULL,
				    notify_dispatch, NULL);
		if (rc == 0)
			notify_serve.dispatching = true;
		else
			mb_log(LOG_ERR, "account %s: notify waits: %s",
			       a->name, mb_errstr(rc));
	}
	pthread_cond_broadcast(&notify_serve.kick);
	pthread_mutex_unlock(&notify_serve.mu);
	if (log_held)
		notify_log_held(a->name, held, &f, due, true);
	notify_file_close(&f, false);
}

/* One-shot commands: a grandchild that outlives us runs the command and
 * logs to syslog, with none of our standard descriptors (a caller that
 * reads our output to its end must not wait for the command).  It says
 * through a pipe once the command has started.  True if it has. */
static bool
notify_start_detached(struct notify_job *j, int lock_fd)
{
	int sp[2], fd, status, out = -1;
	pid_t pid, cmd;
	ssize_t n;
	char c;

	if (pipe2(sp, O_CLOEXEC) < 0) {
		mb_log(LOG_ERR, "account %s: notify (%s) not run: %s",
		       j->account, j->event, mb_errstr(errno));
		return false;
	}
	pid = fork();
	if (pid == 0) {
		close(lock_fd);
		close(sp[0]);
		if (fork() != 0)
			_exit(0);
		(void)setsid();
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		mb_log_init(NULL, true, false);
		cmd = notify_spawn(j, &out);
		n = cmd > 0 ? write(sp[1], "1", 1) : 0;
		(void)n;
		close(sp[1]);
		if (cmd > 0)
			notify_finish(j, cmd, out);
		_exit(0);
	}
	close(sp[1]);
	if (pid < 0) {
		mb_log(LOG_ERR, "account %s: notify (%s) not run: fork: %s",
		       j->account, j->event, mb_errstr(errno));
		close(sp[0]);
		return false;
	}
	(void)waitpid(pid, &status, 0);
	do
		n = read(sp[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(sp[0]);
	if (n != 1)
		mb_log(LOG_ERR, "account %s: notify (%s) not run (see the "
		       "system log)", j->account, j->event);
	return n == 1;
}

/* One-shot commands: decided, started and recorded under the lock. */
static void
notify_observe_detached(const struct mb_account *a, enum notify_kind cur,
			char *reason)
{
	struct notify_acct acct;
	struct notify_file f;
	struct notify_job *j;
	enum notify_kind ev, held;
	time_t due;
	bool started;

	notify_acct_copy(&acct, a);
	if (notify_file_open(&acct, &f) < 0) {
		notify_acct_clear(&acct);
		free(reason);
		return;
	}
	ev = notify_decide(&f, cur, time(NULL), a->notify_after, &held,
			   &due);
	if (ev == NK_OK) {
		if (held != NK_OK)
			notify_log_held(a->name, held, &f, due, false);
		notify_file_close(&f, false);
	} else {
		j = notify_job_new(&acct, ev, f.sent.failing_since, reason);
		started = notify_start_detached(j, f.fd);
		notify_file_close(&f, started);
		if (started)
			mb_log(LOG_NOTICE, "account %s: %s: running notify",
			       a->name, notify_names[ev]);
		notify_job_free(j);
	}
	notify_acct_clear(&acct);
	free(reason);
}

void
mb_notify_observe(const struct mb_account *a, enum mb_token_status st,
		  bool stale, const char *error, bool detach)
{
	enum notify_kind cur;
	char *reason = NULL, *err = NULL;

	if (a->notify == NULL)
		return;
	if (mb_store_prepare_dir(a->state_dir, &err) < 0) {
		mb_log(LOG_ERR, "account %s: no notification: %s", a->name,
		       err);
		free(err);
		return;
	}
	cur = notify_classify(a, st, stale, error, &reason);
	if (detach)
		notify_observe_detached(a, cur, reason);
	else
		notify_observe_serve(a, cur, reason);
}

void
mb_notify_stop(int grace_ms)
{
	struct notify_entry *e, *next;
	struct timespec dl;
	bool join;
	int left;

	pthread_mutex_lock(&notify_serve.mu);
	notify_serve.stopping = true;
	pthread_cond_broadcast(&notify_serve.kick);
	notify_deadline(&dl, grace_ms);
	while (notify_serve.running > 0 &&
	       pthread_cond_timedwait(&notify_serve.done, &notify_serve.mu,
				      &dl) != ETIMEDOUT)
		;
	left = notify_serve.running;
	if (left > 0) {
		for (e = notify_serve.entries; e != NULL; e = e->next) {
			if (e->pid <= 0)
				continue;
			(void)kill(-e->pid, SIGKILL);
			(void)kill(e->pid, SIGKILL);
		}
		notify_deadline(&dl, NOTIFY_REAP_MS);
		while (notify_serve.running > 0 &&
		       pthread_cond_timedwait(&notify_serve.done,
					      &notify_serve.mu, &dl) !=
		       ETIMEDOUT)
			;
	}
	join = notify_serve.dispatching;
	notify_serve.dispatching = false;
	pthread_mutex_unlock(&notify_serve.mu);
	if (left > 0)
		mb_log(LOG_WARNING, "%d notify command%s still running %d ms "
		       "after serve began to stop: killed", left,
		       left == 1 ? "" : "s", grace_ms);
	if (join)
		pthread_join(notify_serve.dispatcher, NULL);
	pthread_mutex_lock(&notify_serve.mu);
	if (notify_serve.running == 0) {
		for (e = notify_serve.entries; e != NULL; e = next) {
			next = e->next;
			notify_acct_clear(&e->acct);
			free(e->reason);
			free(e);
		}
		notify_serve.entries = NULL;
	}
	pthread_mutex_unlock(&notify_serve.mu);
}

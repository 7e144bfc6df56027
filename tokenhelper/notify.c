#include <config.h>

/* notify = COMMAND: the transitions of an account's attention, and the
 * command run for each (notify.h). */

#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "errtext.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#define NOTIFY_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
	"/usr/bin:/sbin:/bin"
/* Longest MAILBEARER_REASON, and longest output quoted in a log line. */
#define NOTIFY_REASON_MAX 1000
#define NOTIFY_OUTPUT_MAX 200
/* serve: commands running at once; more are dropped (and logged). */
#define NOTIFY_MAX_RUNNING 16

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

static atomic_int notify_running;

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
		mb_cli_format_time(s->failing_since, t, sizeof(t));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"failing_since=%s\n", t);
	}
	for (k = 1; k < NK_COUNT; k++) {
		if (s->sent[k] <= 0)
			continue;
		mb_cli_format_time(s->sent[k], t, sizeof(t));
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

/* Printable ASCII, bounded: the reason is one line of an environment
 * variable. */
static char *
notify_clean(const char *s)
{
	size_t i, n = strlen(s);
	char *r;

	if (n > NOTIFY_REASON_MAX)
		n = NOTIFY_REASON_MAX;
	r = mb_xstrndup(s, n);
	for (i = 0; i < n; i++) {
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] > 0x7e)
			r[i] = ' ';
	}
	return r;
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

/* Under the lock of <account>.notify: the event to send now, NK_OK if
 * none (no transition, or one already sent this hour). */
static enum notify_kind
notify_decide(const struct mb_account *a, enum notify_kind cur, time_t now,
	      time_t *since_r)
{
	struct notify_side s, before;
	enum notify_kind ev;
	char *path = mb_store_path(a, ".notify"), *err = NULL, t[32];
	int fd;

	fd = mb_store_open_regular(path, O_RDWR | O_CREAT, 0600,
				   "notify file", &err);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		mb_log(LOG_ERR, "account %s: no notification: %s", a->name,
		       err != NULL ? err : mb_errstr(errno));
		free(err);
		free(path);
		if (fd >= 0)
			close(fd);
		return NK_OK;
	}
	notify_side_read(fd, &s);
	before = s;
	ev = notify_transition(&s, cur, now, a->notify_after);
	*since_r = s.failing_since;
	if (ev != NK_OK && s.sent[ev] > 0 && now >= s.sent[ev] &&
	    now - s.sent[ev] < MB_NOTIFY_RATE) {
		mb_cli_format_time(s.sent[ev], t, sizeof(t));
		mb_log(LOG_INFO, "account %s: %s: not notified again (the last "
		       "notification of it ran at %s; one an hour at most)",
		       a->name, notify_names[ev], t);
		ev = NK_OK;
	} else if (ev != NK_OK) {
		s.sent[ev] = now;
	}
	if (!notify_side_equal(&before, &s))
		notify_side_write(fd, &s, path);
	close(fd);
	free(path);
	return ev;
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

/* argv and a clean environment: PATH, HOME, the three variables. */
static struct notify_job *
notify_job_new(const struct mb_account *a, enum notify_kind ev,
	       const char *reason)
{
	struct notify_job *j = mb_xcalloc(1, sizeof(*j));
	const char *home = getenv("HOME");
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
	j->envp[n++] = mb_xasprintf("MAILBEARER_REASON=%s", reason);
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

/* Runs the command and logs how it ended. */
static void
notify_run(const struct notify_job *j)
{
	char out[NOTIFY_OUTPUT_MAX + 1], *nl;
	long maxfd = sysconf(_SC_OPEN_MAX);
	int p[2], devnull, status;
	pid_t pid;

	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(p, O_CLOEXEC) < 0) {
		mb_log(LOG_ERR, "account %s: notify (%s) not run: %s",
		       j->account, j->event, mb_errstr(errno));
		if (devnull >= 0)
			close(devnull);
		return;
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
		return;
	}
	status = notify_wait(pid, p[0], out, sizeof(out));
	close(p[0]);
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

static void *
notify_thread(void *arg)
{
	struct notify_job *j = arg;

	notify_run(j);
	notify_job_free(j);
	atomic_fetch_sub(&notify_running, 1);
	return NULL;
}

/* serve: a detached thread, a bounded number of them. */
static void
notify_start_thread(struct notify_job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (atomic_fetch_add(&notify_running, 1) >= NOTIFY_MAX_RUNNING) {
		atomic_fetch_sub(&notify_running, 1);
		mb_log(LOG_ERR, "account %s: notify (%s) not run: %d "
		       "notifications are running already", j->account,
		       j->event, NOTIFY_MAX_RUNNING);
		notify_job_free(j);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, notify_thread, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		atomic_fetch_sub(&notify_running, 1);
		mb_log(LOG_ERR, "account %s: notify (%s) not run: %s",
		       j->account, j->event, mb_errstr(rc));
		notify_job_free(j);
	}
}

/* One-shot commands: a grandchild that outlives us runs the command and
 * logs to syslog, with none of our standard descriptors (a caller that
 * reads our output to its end must not wait for the command). */
static void
notify_start_detached(struct notify_job *j)
{
	pid_t pid = fork();
	int fd, status;

	if (pid == 0) {
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
		notify_run(j);
		_exit(0);
	}
	if (pid < 0)
		mb_log(LOG_ERR, "account %s: notify (%s) not run: fork: %s",
		       j->account, j->event, mb_errstr(errno));
	else
		(void)waitpid(pid, &status, 0);
	notify_job_free(j);
}

void
mb_notify_observe(const struct mb_account *a, enum mb_token_status st,
		  bool stale, const char *error, bool detach)
{
	enum notify_kind cur, ev;
	char *reason = NULL, *err = NULL, *text, t[32];
	time_t now = time(NULL), since = 0;

	if (a->notify == NULL)
		return;
	if (mb_store_prepare_dir(a->state_dir, &err) < 0) {
		mb_log(LOG_ERR, "account %s: no notification: %s", a->name,
		       err);
		free(err);
		return;
	}
	cur = notify_classify(a, st, stale, error, &reason);
	ev = notify_decide(a, cur, now, &since);
	if (ev == NK_OK) {
		free(reason);
		return;
	}
	if (ev == NK_FAILING) {
		mb_cli_format_time(since, t, sizeof(t));
		text = mb_xasprintf("refreshes have failed since %s: %s", t,
				    reason);
	} else if (ev == NK_RECOVERED) {
		text = mb_xstrdup("a token was obtained again");
	} else {
		text = mb_xstrdup(reason);
	}
	free(reason);
	reason = notify_clean(text);
	free(text);
	mb_log(LOG_NOTICE, "account %s: %s: running notify", a->name,
	       notify_names[ev]);
	if (detach)
		notify_start_detached(notify_job_new(a, ev, reason));
	else
		notify_start_thread(notify_job_new(a, ev, reason));
	free(reason);
}

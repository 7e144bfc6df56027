/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "cmd.h"

#include "conf.h"
#include "errtext.h"
#include "log.h"
#include "notify.h"
#include "serve-loop.h"
#include "serve-socket.h"
#include "serve-user.h"
#include "test-hooks.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>


#define MB_MAX_SOCKETS		16
/* sd_listen_fds(3): passed descriptors start at 3 */
#define MB_LISTEN_FDS_START	3
/* SIGTERM ends serve within this (and half a second more) even in the
 * middle of a refresh. */
#define MB_STOP_GRACE_MS	1000

struct serve_socket {
	int fd;
	char *path;		/* NULL for an inherited (activated) socket */
	dev_t dev;		/* of the socket file we created */
	ino_t ino;
};

struct serve_opts {
	const char *config;
	const char *socket_specs[MB_MAX_SOCKETS];
	int n_specs;
	bool foreground;
	bool syslog;
	bool verbose;
	const char *pidfile;
	const char *user;	/* --user: run as this user after binding */
	struct mb_serve_options srv;
};

/* --pidfile: locked (flock) from before daemonising until exit, so a
 * second serve with the same file is refused while the first lives and a
 * file left by a killed one is simply taken over. */
struct serve_pidfile {
	int fd;
	char *path;		/* absolute: the daemon changes to / */
	dev_t dev;
	ino_t ino;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: mailbearer serve [--config FILE] [--socket PATH[,mode=0660][,group=G]]...\n"
"                        [--foreground] [--syslog] [--keepalive DURATION]\n"
"                        [--max-clients N] [--max-per-uid N]\n"
"                        [--request-timeout DURATION]\n"
"                        [--pidfile PATH] [--user NAME] [--verbose]\n"
"Serves access tokens to the SASL plugin over UNIX sockets.\n"
"Default socket: %s (root), else $XDG_RUNTIME_DIR/mailbearer/socket.\n"
"DURATION: seconds, or a number followed by s, m, h or d (default 7d;\n"
"0 disables the keep-alive refresh of idle accounts).\n"
"--user NAME: started as root, bind the sockets and the pid file, then\n"
"run as NAME (the owner of the state, e.g. " MB_SERVICE_USER ") for good.\n",
		mb_sock_system_path());
}

/* "90", "90s", "15m", "12h", "7d" -> seconds.  Returns -1 if invalid. */
static long
parse_duration(const char *s)
{
	char *end = NULL;
	long v, mul = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
	}
	if (v > LONG_MAX / mul / 2)
		return -1;
	return v * mul;
}

/* A socket spec: PATH[,mode=OCTAL][,group=NAME|GID].  The path may not
 * contain ','.  Returns 0 or -1 with a message on stderr. */
static int
parse_spec(const char *spec, char *path, size_t path_size, mode_t *mode_r,
	   gid_t *gid_r)
{
	const char *comma = strchr(spec, ',');
	size_t plen = comma != NULL ? (size_t)(comma - spec) : strlen(spec);

	*mode_r = 0666;
	*gid_r = (gid_t)-1;
	if (plen == 0 || plen >= path_size ||
	    plen >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		mb_log(LOG_ERR, "--socket %s: empty or too long path", spec);
		return -1;
	}
	memcpy(path, spec, plen);
	path[plen] = '\0';
	while (comma != NULL) {
		const char *opt = comma + 1;
		char val[256];
		size_t olen;

		comma = strchr(opt, ',');
		olen = comma != NULL ? (size_t)(comma - opt) : strlen(opt);
		if (strncmp(opt, "mode=", 5) == 0 && olen > 5 &&
		    olen - 5 < sizeof(val)) {
			char *end = NULL;
			long m;

			memcpy(val, opt + 5, olen - 5);
			val[olen - 5] = '\0';
			errno = 0;
			m = strtol(val, &end, 8);
			if (errno != 0 || *end != '\0' || m < 0 || m > 0777) {
				mb_log(LOG_ERR, "--socket %s: bad mode \"%s\" "
				       "(octal, e.g. 0660)", spec, val);
				return -1;
			}
			*mode_r = (mode_t)m;
		} else if (strncmp(opt, "group=", 6) == 0 && olen > 6 &&
			   olen - 6 < sizeof(val)) {
			struct group *gr;
			char *end = NULL;
			long g;

			memcpy(val, opt + 6, olen - 6);
			val[olen - 6] = '\0';
			gr = getgrnam(val);
			if (gr != NULL) {
				*gid_r = gr->gr_gid;
				continue;
			}
			errno = 0;
			g = strtol(val, &end, 10);
			if (errno != 0 || *end != '\0' || g < 0) {
				mb_log(LOG_ERR, "--socket %s: no group \"%s\"",
				       spec, val);
				return -1;
			}
			*gid_r = (gid_t)g;
		} else {
			mb_log(LOG_ERR, "--socket %s: unknown option \"%.*s\" "
			       "(known: mode=, group=)", spec, (int)olen, opt);
			return -1;
		}
	}
	return 0;
}

/* A count option (--max-clients, --max-per-uid): 1-10000, else -1. */
static int
parse_count(const char *arg, const char *name)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 10000) {
		fprintf(stderr, "mailbearer serve: bad --%s \"%s\" "
			"(1-10000)\n", name, arg);
		return -1;
	}
	return (int)v;
}

/* The engine's limits: --keepalive, --max-clients, --max-per-uid,
 * --request-timeout (option c with argument arg). */
static int
parse_limit(int c, const char *arg, struct mb_serve_options *srv)
{
	long v;

	switch (c) {
	case 'k':
		v = parse_duration(arg);
		if (v < 0) {
			fprintf(stderr, "mailbearer serve: bad "
				"--keepalive \"%s\"\n", arg);
			return -1;
		}
		srv->keepalive = v;
		return 0;
	case 'm':
		srv->max_clients = parse_count(arg, "max-clients");
		return srv->max_clients < 0 ? -1 : 0;
	case 'u':
		srv->max_per_uid = parse_count(arg, "max-per-uid");
		return srv->max_per_uid < 0 ? -1 : 0;
	default:
		v = parse_duration(arg);
		if (v < 1 || v > 3600) {
			fprintf(stderr, "mailbearer serve: bad "
				"--request-timeout \"%s\"\n", arg);
			return -1;
		}
		srv->request_timeout_ms = (int)(v * 1000);
		return 0;
	}
}

static int
parse_args(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "max-per-uid", required_argument, NULL, 'u' },
		{ "request-timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "user", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	mb_serve_options_default(&o->srv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:fvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			if (o->n_specs == MB_MAX_SOCKETS) {
				fprintf(stderr, "mailbearer serve: at most %d "
					"sockets\n", MB_MAX_SOCKETS);
				return -1;
			}
			o->socket_specs[o->n_specs++] = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'S':
			o->syslog = true;
			break;
		case 'k':
		case 'm':
		case 'u':
		case 'T':
			if (parse_limit(c, optarg, &o->srv) < 0)
				return -1;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'P':
			o->pidfile = optarg;
			break;
		case 'U':
			o->user = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mailbearer serve: unexpected argument "
			"\"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

/* Adopts descriptors from systemd socket activation (sd_listen_fds(3)
 * protocol: LISTEN_PID is our pid, LISTEN_FDS the count, fds from 3).
 * Returns the number adopted, or -1 on a bad descriptor. */
static int
adopt_activated(struct serve_socket *socks, int max)
{
	const char *pid_s = getenv("LISTEN_PID");
	const char *fds_s = getenv("LISTEN_FDS");
	char *end = NULL;
	long pid, n;

	if (pid_s == NULL || fds_s == NULL)
		return 0;
	errno = 0;
	pid = strtol(pid_s, &end, 10);
	if (errno != 0 || *end != '\0' || pid != (long)getpid())
		return 0;
	errno = 0;
	n = strtol(fds_s, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (errno != 0 || *end != '\0' || n < 0 || n > max) {
		mb_log(LOG_ERR, "socket activation: bad LISTEN_FDS \"%s\"",
		       fds_s);
		return -1;
	}
	for (long i = 0; i < n; i++) {
		int fd = MB_LISTEN_FDS_START + (int)i;
		int type = 0, acc = 0;
		socklen_t l = sizeof(type);
		struct sockaddr_un sa;
		socklen_t sl = sizeof(sa);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 ||
		    type != SOCK_STREAM ||
		    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 ||
		    sa.sun_family != AF_UNIX) {
			mb_log(LOG_ERR, "socket activation: fd %d is not a "
			       "UNIX stream socket", fd);
			return -1;
		}
		l = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 ||
		    !acc) {
			mb_log(LOG_ERR, "socket activation: fd %d is not "
			       "listening (use Accept=no)", fd);
			return -1;
		}
		if (set_flags(fd) < 0)
			return -1;
		socks[i].fd = fd;
		socks[i].path = NULL;
	}
	if (n > 0)
		mb_log(LOG_INFO, "socket activation: %ld socket(s)", n);
	return (int)n;
}

/* With --user: the owner given to a directory serve creates for its
 * sockets or pid file, so that the user removes them at exit (as
 * systemd's RuntimeDirectory= does); -1 otherwise. */
static uid_t serve_dir_uid = (uid_t)-1;

/* The parent directory of a socket or pid file (of path, modified and
 * restored; what: "socket" or "pidfile", for messages): created if
 * missing (one level), never group/world-writable. */
static int
socket_parent_dir(char *path, const char *what)
{
	char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL || slash == path)
		return 0;
	*slash = '\0';
	if (mkdir(path, geteuid() == 0 ? 0755 : 0700) == 0) {
		/* by descriptor: the directory above may be the user's, who
		 * could put a symlink in its place before a chown by path */
		int dfd = serve_dir_uid == (uid_t)-1 ? -1 :
			open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);

		if (serve_dir_uid != (uid_t)-1 &&
		    (dfd < 0 || fchown(dfd, serve_dir_uid, (gid_t)-1) < 0)) {
			int e = errno;

			if (dfd >= 0)
				close(dfd);
			mb_log(LOG_ERR, "%s directory %s: cannot give it "
			       "to uid %ld: %s", what, path,
			       (long)serve_dir_uid, mb_errstr(e));
			*slash = '/';
			return -1;
		}
		if (dfd >= 0)
			close(dfd);
	} else if (errno != EEXIST) {
		int e = errno;

		*slash = '/';
		mb_log(LOG_ERR, "%s %s: cannot create its directory: %s",
		       what, path, mb_errstr(e));
		return -1;
	}
	if (stat(path, &st) == 0 && (st.st_mode & 0022) != 0 &&
	    !(st.st_mode & S_ISVTX))
		mb_log(LOG_WARNING, "%s is group/world-writable: "
		       "others could replace the socket", path);
	*slash = '/';
	return 0;
}

/* Whatever is at sa's path: a stale socket of a dead server is removed;
 * a live server's socket or anything that is not a socket is kept. */
static int
socket_clear_stale(const struct sockaddr_un *sa)
{
	const char *path = sa->sun_path;
	struct stat st;
	int probe;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		mb_log(LOG_ERR, "%s exists and is not a socket; "
		       "refusing to replace it", path);
		return -1;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (const struct sockaddr *)sa,
				  sizeof(*sa)) == 0) {
		close(probe);
		mb_log(LOG_ERR, "%s: another mailbearer serve is "
		       "already running there", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	return 0;
}

/* A listening socket bound at sa with mode and group gid; its file's
 * identity in *st.  Returns the descriptor or -1.
 *
 * As root, the file gets its final mode (umask) and group (setegid) at
 * bind(2) itself, and is never chmod'ed or chown'ed by path: with --user
 * the directory is the service user's (serve chowns the directory it
 * creates; a restart binds in it again), who could replace the new
 * socket by a symlink to /etc/shadow between bind(2) and a chmod(2) by
 * path, and have root make that file mode 0666. */
static int
socket_bind_listen(const struct sockaddr_un *sa, mode_t mode, gid_t gid,
		   struct stat *st)
{
	const char *path = sa->sun_path;
	bool root = geteuid() == 0;
	gid_t egid = getegid();
	mode_t old;
	int fd, rc, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		mb_log(LOG_ERR, "socket: %s", mb_errstr(errno));
		return -1;
	}
	if (root && gid != (gid_t)-1 && setegid(gid) < 0) {
		mb_log(LOG_ERR, "%s: group %ld: %s", path, (long)gid,
		       mb_errstr(errno));
		close(fd);
		return -1;
	}
	/* as root the final mode; otherwise nobody may connect before the
	 * final mode is set */
	old = umask(root ? ~mode & 0777 : 0777);
	rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	umask(old);
	if (root && gid != (gid_t)-1 && setegid(egid) < 0) {
		mb_log(LOG_ERR, "setegid %ld: %s", (long)egid,
		       mb_errstr(errno));
		close(fd);
		if (rc == 0)
			unlink(path);
		return -1;
	}
	if (rc < 0) {
		mb_log(LOG_ERR, "bind %s: %s", path, mb_errstr(err));
		close(fd);
		return -1;
	}
	/* lchown: a set-group-ID directory gave its own group */
	errno = 0;
	if (lstat(path, st) < 0 || !S_ISSOCK(st->st_mode) ||
	    (gid != (gid_t)-1 && st->st_gid != gid &&
	     lchown(path, (uid_t)-1, gid) < 0) ||
	    (!root && chmod(path, mode) < 0) || lstat(path, st) < 0 ||
	    !S_ISSOCK(st->st_mode) || listen(fd, SOMAXCONN) < 0) {
		mb_log(LOG_ERR, "%s: %s", path, errno != 0 ?
		       mb_errstr(errno) : "replaced after bind");
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Creates, binds and listens on one socket.  Returns 0 or -1 (logged). */
static int
open_socket(const char *spec, struct serve_socket *s)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa;
	struct stat st;
	mode_t mode;
	gid_t gid;
	int fd;

	s->fd = -1;
	s->path = NULL;
	if (parse_spec(spec, path, sizeof(path), &mode, &gid) < 0 ||
	    socket_parent_dir(path, "socket") < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (socket_clear_stale(&sa) < 0)
		return -1;
	fd = socket_bind_listen(&sa, mode, gid, &st);
	if (fd < 0)
		return -1;
	s->fd = fd;
	s->path = mb_xstrdup(path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	mb_log(LOG_INFO, "listening on %s (mode %04o)", path,
	       (unsigned)mode);
	return 0;
}

static void
close_sockets(struct serve_socket *socks, int n)
{
	for (int i = 0; i < n; i++) {
		struct stat st;

		if (socks[i].fd >= 0)
			close(socks[i].fd);
		/* unlink only the file we created, not a successor's */
		if (socks[i].path != NULL && lstat(socks[i].path, &st) == 0 &&
		    st.st_dev == socks[i].dev && st.st_ino == socks[i].ino)
			unlink(socks[i].path);
		free(socks[i].path);
		socks[i].path = NULL;
		socks[i].fd = -1;
	}
}

/* The default socket (common/serve-socket.h's rule). */
static int
default_socket(char *buf, size_t size)
{
	if (mb_sock_serve_path(buf, size) == 0)
		return 0;
	mb_log(LOG_ERR, "XDG_RUNTIME_DIR is not set (or too long): give "
	       "--socket PATH");
	return -1;
}

/* The daemon's readiness, told to the parent that waits for it (as
 * Postfix's master and Dovecot do): the parent exits only once the child
 * has written its pid file and read the state, with 0, or with the
 * child's failure.  So `serve` (and start-stop-daemon --start) returning 0
 * means the pid file is there and every request is answered. */
static int ready_fd = -1;

static int
daemon_wait(int rfd, pid_t pid)
{
	char c;
	ssize_t n;
	int st;

	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return 0;
	/* EOF: the child ended before it was ready; its status is ours. */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EX_OSERR;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : EX_SOFTWARE;
	fprintf(stderr, "mailbearer: serve: the daemon was killed by "
		"signal %d before it was ready; see the mail log\n",
		WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return EX_SOFTWARE;
}

static int
daemonize(void)
{
	int p[2];
	pid_t pid;
	int fd;

	if (pipe2(p, O_CLOEXEC) < 0) {
		mb_log(LOG_ERR, "pipe: %s", mb_errstr(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		mb_log(LOG_ERR, "fork: %s", mb_errstr(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		_exit(daemon_wait(p[0], pid));
	}
	close(p[0]);
	ready_fd = p[1];
	if (setsid() < 0)
		return -1;
	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* Tells the waiting parent that the daemon is ready (no-op in the
 * foreground). */
static void
daemon_ready(void)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, "r", 1) != 1)
		mb_log(LOG_WARNING, "telling the parent serve is ready: %s",
		       mb_errstr(errno));
	close(ready_fd);
	ready_fd = -1;
}

/* path made absolute against the current directory, because the daemon
 * changes to / before it reloads the file, and relative state_dir, ca_file
 * and client_secret_file are resolved against the file's directory.
 * Returns a malloc'd string, or NULL (logged). */
static char *
absolute_config_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return mb_xstrdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		mb_log(LOG_ERR, "%s: cannot find the current directory to "
		       "make it absolute: %s; give an absolute --config",
		       path, mb_errstr(errno));
		return NULL;
	}
	return mb_xasprintf("%s/%s", cwd, path);
}

/* Opens and locks PATH.  Returns 0, or -1 (logged) when it cannot, or
 * when another live serve holds it. */
static int
pidfile_open(struct serve_pidfile *pf, const char *path)
{
	struct stat st;
	char buf[32];
	ssize_t n;

	pf->path = absolute_config_path(path);
	if (pf->path == NULL || socket_parent_dir(pf->path, "pidfile") < 0)
		return -1;
	pf->fd = open(pf->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		      0644);
	if (pf->fd < 0) {
		mb_log(LOG_ERR, "pidfile %s: %s", pf->path, mb_errstr(errno));
		return -1;
	}
	/* not a hard link to another file (its directory may be the
	 * --user's): checked before anything of it is read or written */
	if (fstat(pf->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		mb_log(LOG_ERR, "pidfile %s: not a regular file of its own",
		       pf->path);
		close(pf->fd);
		pf->fd = -1;
		return -1;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(pf->fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		mb_log(LOG_ERR, "pidfile %s: held by a running serve (pid %s)",
		       pf->path, buf[0] != '\0' ? buf : "unknown");
		close(pf->fd);
		pf->fd = -1;
		return -1;
	}
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	return 0;
}

/* Writes our pid (after daemonising: the pid that stays). */
static int
pidfile_write(struct serve_pidfile *pf)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (pf->fd < 0)
		return 0;
	if (ftruncate(pf->fd, 0) < 0 || pwrite(pf->fd, buf, n, 0) != n) {
		mb_log(LOG_ERR, "pidfile %s: %s", pf->path, mb_errstr(errno));
		return -1;
	}
	return 0;
}

/* Removes the file if it is still ours, then unlocks it. */
static void
pidfile_remove(struct serve_pidfile *pf)
{
	struct stat st;

	if (pf->fd >= 0) {
		if (stat(pf->path, &st) == 0 && st.st_dev == pf->dev &&
		    st.st_ino == pf->ino)
			unlink(pf->path);
		close(pf->fd);
		pf->fd = -1;
	}
	free(pf->path);
	pf->path = NULL;
}

/* SIGTERM ends serve within this even in the middle of a refresh: a
 * refresh still running then (a transfer whose reply is being saved, a
 * state lock another process holds) is left to the process exit, which
 * the state file's atomic replacement and the recovery of temporary files
 * make safe. */
/* The configuration named by --config (or the default), by its absolute
 * path, which a reload reads again.  Returns 0, or an exit status. */
static char *
serve_config_path(const struct serve_opts *o)
{
	char *given, *abs;

	given = o->config != NULL ? mb_xstrdup(o->config) :
		mb_config_default_path();
	abs = given != NULL ? absolute_config_path(given) : NULL;
	free(given);
	return abs;
}

/* Loads the configuration at config_path (serve_config_path()). */
static int
serve_load_config(const char *config_path, struct mb_config **cfg_r)
{
	char *error = NULL;
	int status = 0;

	if (config_path == NULL)
		return EX_OSERR;
	if (mb_config_load(config_path, cfg_r, &error) < 0) {
		mb_log(LOG_ERR, "%s", error != NULL ? error : config_path);
		status = EX_CONFIG;
	} else if (mb_serve_user_check_root(*cfg_r) < 0) {
		status = EX_CONFIG;
	}
	free(error);
	return status;
}

/* The sockets: those passed by systemd, then those of --socket, or the
 * default one when there are neither.  *n_socks counts the ones open,
 * also on failure (-1), so that the caller closes them. */
static int
serve_open_sockets(const struct serve_opts *o, struct serve_socket *socks,
		   int *n_socks)
{
	int n = adopt_activated(socks, MB_MAX_SOCKETS);

	*n_socks = 0;
	if (n < 0)
		return -1;
	*n_socks = n;
	if (o->n_specs == 0 && *n_socks == 0) {
		char def[sizeof(((struct sockaddr_un *)0)->sun_path)];

		if (default_socket(def, sizeof(def)) < 0 ||
		    open_socket(def, &socks[*n_socks]) < 0)
			return -1;
		(*n_socks)++;
	}
	for (int i = 0; i < o->n_specs; i++) {
		if (*n_socks == MB_MAX_SOCKETS) {
			mb_log(LOG_ERR, "too many sockets");
			return -1;
		}
		if (open_socket(o->socket_specs[i], &socks[*n_socks]) < 0)
			return -1;
		(*n_socks)++;
	}
	return 0;
}

/* SIGTERM, SIGINT and SIGHUP arrive on the returned descriptor only
 * (every thread inherits the mask); SIGPIPE is ignored.  -1 on error. */
static int
serve_signals(void)
{
	sigset_t mask;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		mb_log(LOG_ERR, "signalfd: %s", mb_errstr(errno));
		return -1;
	}
	return sfd;
}

int
mb_cmd_serve(int argc, char **argv)
{
	struct serve_opts o;
	struct serve_socket socks[MB_MAX_SOCKETS];
	int n_socks = 0;
	struct mb_config *cfg = NULL;
	struct mb_serve *srv = NULL;
	int lfds[MB_MAX_SOCKETS];
	struct serve_pidfile pf = { .fd = -1 };
	char *config_path = NULL;
	struct mb_serve_user su = { .drop = false };
	int sfd = -1;
	int status;

	for (int i = 0; i < MB_MAX_SOCKETS; i++) {
		socks[i].fd = -1;
		socks[i].path = NULL;
	}
	if (parse_args(argc, argv, &o) < 0)
		return EX_USAGE;
	o.verbose = o.verbose || mb_log_verbose();
	mb_log_init("mailbearer", o.syslog, o.verbose);
	mb_log_timestamps(true);
	/* --user: the path is root's choice (the system file), the file
	 * is read as the user, as a reload will read it. */
	config_path = serve_config_path(&o);
	if (o.user != NULL && mb_serve_user_lookup(o.user, &su) < 0) {
		status = EX_NOUSER;
		goto out;
	}
	if (su.drop)
		serve_dir_uid = su.uid;
	else if ((status = serve_load_config(config_path, &cfg)) != 0)
		goto out;
	status = EX_OSERR;
	if (o.pidfile != NULL && pidfile_open(&pf, o.pidfile) < 0) {
		status = EX_TEMPFAIL;
		goto out;
	}
	if (serve_open_sockets(&o, socks, &n_socks) < 0)
		goto out;
	if (su.drop) {
		if (mb_serve_user_drop(&su) < 0)
			goto out;
		if ((status = serve_load_config(config_path, &cfg)) != 0)
			goto out;
		status = EX_OSERR;
	}
	if (!o.foreground) {
		if (daemonize() < 0)
			goto out;
		mb_log_init("mailbearer", true, o.verbose);
	}
	if (pidfile_write(&pf) < 0)
		goto out;
	sfd = serve_signals();
	if (sfd < 0)
		goto out;
	srv = mb_serve_new(&cfg, &o.srv);
	if (srv == NULL)
		goto out;
	mb_log(LOG_NOTICE, "serving %s on %d socket(s)", config_path, n_socks);
	mb_test_crash_point("serve-ready");
	daemon_ready();
	for (int i = 0; i < n_socks; i++)
		lfds[i] = socks[i].fd;
	status = mb_serve_run(srv, lfds, n_socks, sfd, config_path);
out:
	/* stop accepting first, then let the requests in flight finish */
	if (srv != NULL && !mb_serve_stop(srv, MB_STOP_GRACE_MS)) {
		mb_log(LOG_WARNING, "a refresh was still in flight after %d "
		       "ms; exiting anyway", MB_STOP_GRACE_MS);
		close_sockets(socks, n_socks);
		pidfile_remove(&pf);
		mb_notify_stop(MB_NOTIFY_STOP_GRACE_MS);
		closelog();
		_exit(status);
	}
	close_sockets(socks, n_socks);
	pidfile_remove(&pf);
	mb_notify_stop(MB_NOTIFY_STOP_GRACE_MS);
	mb_serve_free(&srv);
	mb_config_free(&cfg);
	if (sfd >= 0)
		close(sfd);
	free(config_path);
	return status;
}

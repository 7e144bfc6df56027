/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "store-files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errtext.h"
#include "log.h"
#include "owner.h"
#include "safe-open.h"
#include "test-hooks.h"
#include "wipe.h"
#include "xalloc.h"

#define MB_TMP_SUFFIX ".json.tmp-"
#define MB_TMP_RANDOM 6		/* mkstemp's XXXXXX */

#ifdef MB_TEST_HOOKS
void
mb_store_crash_point(const char *point)
{
	mb_test_crash_point(point);
}

void
mb_store_note_read(const char *path)
{
	const char *log = getenv("MB_TEST_READ_LOG");
	char *line;
	int fd;

	if (log == NULL || log[0] == '\0')
		return;
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	line = mb_xasprintf("read %s\n", path);
	/* One write(2) with O_APPEND: lines of threads do not mix. */
	if (write(fd, line, strlen(line)) < 0)
		mb_log(LOG_WARNING, "MB_TEST_READ_LOG %s: %s", log,
		       mb_errstr(errno));
	free(line);
	close(fd);
}
#endif

/* "WHAT PATH belongs to another user", and the fix: run the command as
 * the owner (owner.h says how), or, for a directory of a user who logs
 * in (restored from a backup), give it to this user.  Root may read a
 * directory of the service user (status, doctor) but never writes in it:
 * the files it wrote would be root's, and serve could not read them. */
static char *
store_owner_error(const char *what, const char *path, uid_t owner,
		  bool write)
{
	char oname[64], mname[64], *run, *msg;
	uid_t me = geteuid();
	struct stat st;

	mb_owner_name(owner, oname, sizeof(oname));
	mb_owner_name(me, mname, sizeof(mname));
	if (strncmp(oname, "uid ", 4) == 0)
		return mb_xasprintf("%s %s belongs to %s, which has no "
			"account, not to %s running mailbearer; run: chown "
			"%ld %s", what, path, oname, mname, (long)me, path);
	run = mb_owner_run_as(oname);
	if (me == 0 && write)
		msg = mb_xasprintf("%s %s belongs to %s: root reads it but "
			"writes nothing there (what root wrote would be "
			"root's, and serve, running as %s, could not read "
			"it); run the command as %s: %s ...", what, path,
			oname, oname, oname, run);
	else if (me == 0 || mb_owner_is_service(owner) ||
		 stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		msg = mb_xasprintf("%s %s belongs to %s (uid %ld), not to "
			"%s (uid %ld) running mailbearer; run the command as "
			"its owner, the user serve runs as: %s ...", what,
			path, oname, (long)owner, mname, (long)me, run);
	else
		msg = mb_xasprintf("%s %s belongs to %s (uid %ld), not to %s "
			"(uid %ld) running mailbearer; run the command as %s "
			"(%s ...), or, if the directory is yours: chown -R %s "
			"%s", what, path, oname, (long)owner, mname, (long)me,
			oname, run, mname, path);
	free(run);
	return msg;
}

int
mb_store_open_regular(const char *path, int flags, mode_t mode,
		      const char *what, char **error_r)
{
	char *label = mb_xasprintf("the %s %s", what, path);
	int fd;

	fd = mb_open_regular(path, flags, mode, MB_OPEN_NOFOLLOW |
			     MB_OPEN_MISSING_OK, label, NULL, error_r);
	free(label);
	return fd;
}

char *
mb_store_path(const struct mb_account *acct, const char *suffix)
{
	return mb_xasprintf("%s/%s%s", acct->state_dir, acct->name, suffix);
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int
store_mkdirs(const char *dir, char **error_r)
{
	char *copy = mb_xstrdup(dir), *p;
	int ret = -1;

	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
				*error_r = mb_xasprintf("cannot create the "
					"state directory %s: %s", copy,
					mb_errstr(errno));
				goto out;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* mb_store_prepare_dir(); write false: root may read a directory of
 * another user (the service user's, for status and doctor).  *owner_r:
 * the directory's owner, whom its files must belong to. */
static int
store_check_dir(const char *dir, bool write, uid_t *owner_r,
		char **error_r)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			*error_r = mb_xasprintf("state directory %s: %s", dir,
						mb_errstr(errno));
			return -1;
		}
		if (store_mkdirs(dir, error_r) < 0)
			return -1;
		if (stat(dir, &st) < 0) {
			*error_r = mb_xasprintf("state directory %s: %s", dir,
						mb_errstr(errno));
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		*error_r = mb_xasprintf("state directory %s is not a "
					"directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid() && (write || geteuid() != 0)) {
		*error_r = store_owner_error("state directory", dir,
					     st.st_uid, write);
		return -1;
	}
	*owner_r = st.st_uid;
	if ((st.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("state directory %s is accessible by "
			"group or others (mode %04o); run: chmod 700 %s", dir,
			(unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

int
mb_store_prepare_dir(const char *dir, char **error_r)
{
	uid_t owner;

	return store_check_dir(dir, true, &owner, error_r);
}

/* Renames a corrupt state file aside without overwriting anything: the
 * new name is <file>.corrupt-<YYYYmmddTHHMMSS>[-N].  Returns the new
 * name (malloc'd) or NULL. */
static char *
store_move_aside(const char *path)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	char *dest;
	int i;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			dest = mb_xasprintf("%s.corrupt-%s", path, stamp);
		else
			dest = mb_xasprintf("%s.corrupt-%s-%d", path, stamp,
					    i);
		/* link(2) fails with EEXIST instead of replacing. */
		if (link(path, dest) == 0) {
			if (unlink(path) < 0) {
				unlink(dest);
				free(dest);
				return NULL;
			}
			return dest;
		}
		free(dest);
		if (errno != EEXIST)
			return NULL;
	}
	return NULL;
}

/* Checks owner and mode of an open state file (or temporary file) and
 * decodes it (owner: whom it must belong to).  trim_nul: ignore NUL
 * bytes at the end (a reserved file whose truncation a crash
 * prevented).  On CORRUPT *why_r says why. */
static enum mb_store_read_result
store_load(int fd, const char *path, bool trim_nul, uid_t owner,
	   struct mb_state *st, char **why_r, char **error_r)
{
	enum mb_store_read_result ret = MB_STORE_ERROR;
	struct stat sb;
	char *text = NULL;
	size_t len = 0, size;
	ssize_t n;

	/* Cleared on every path: callers clear it whatever is returned. */
	memset(st, 0, sizeof(*st));
	*why_r = NULL;
	if (fstat(fd, &sb) < 0) {
		*error_r = mb_xasprintf("cannot stat the state file %s: %s",
					path, mb_errstr(errno));
		return MB_STORE_ERROR;
	}
	if (sb.st_uid != owner) {
		char fname[64], dname[64];

		*error_r = mb_xasprintf("state file %s belongs to %s, but its "
			"directory to %s, whom serve runs as; run: chown %s %s",
			path, mb_owner_name(sb.st_uid, fname, sizeof(fname)),
			mb_owner_name(owner, dname, sizeof(dname)), dname,
			path);
		return MB_STORE_ERROR;
	}
	if ((sb.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("state file %s is accessible by group "
			"or others (mode %04o); refusing to read tokens from "
			"it; run: chmod 600 %s", path,
			(unsigned)(sb.st_mode & 07777), path);
		return MB_STORE_ERROR;
	}
	if (sb.st_size > MB_STATE_MAX_SIZE + MB_STATE_RESERVE) {
		*why_r = mb_xstrdup("too large");
		return MB_STORE_CORRUPT;
	}
	size = (size_t)sb.st_size;
	text = mb_xmalloc(size + 1);
	while (len < size) {
		n = read(fd, text + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = mb_xasprintf("cannot read the state file "
				"%s: %s", path, mb_errstr(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	while (trim_nul && len > 0 && text[len - 1] == '\0')
		len--;
	text[len] = '\0';
	if (len > MB_STATE_MAX_SIZE)
		*why_r = mb_xstrdup("too large");
	else if (mb_state_decode(text, len, st, why_r) == 0)
		ret = MB_STORE_FOUND;
	if (ret != MB_STORE_FOUND)
		ret = MB_STORE_CORRUPT;
out:
	mb_wipe(text, size + 1);
	free(text);
	return ret;
}

/* mb_files_read(); with seen, the file read is left open in it when
 * FOUND (else seen->fd is -1). */
static enum mb_store_read_result
store_read(const struct mb_account *acct, bool move_corrupt,
	   struct mb_state *st, struct mb_store_seen *seen, char **error_r)
{
	enum mb_store_read_result ret = MB_STORE_ERROR;
	char *path = mb_store_path(acct, ".json");
	char *why = NULL, *aside, *cmd;
	int fd = -1, e;
	uid_t owner;

	if (seen != NULL)
		seen->fd = -1;
	memset(st, 0, sizeof(*st));
	*error_r = NULL;
	if (store_check_dir(acct->state_dir, move_corrupt, &owner,
			    error_r) < 0)
		goto out;
	fd = mb_store_open_regular(path, O_RDONLY, 0, "state file", error_r);
	if (fd < 0) {
		if (errno == ENOENT && *error_r == NULL)
			ret = MB_STORE_MISSING;
		goto out;
	}
	mb_store_note_read(path);
	/* Before reading: a write in place while it is read shows. */
	if (seen != NULL && fstat(fd, &seen->sb) < 0)
		seen = NULL;
	ret = store_load(fd, path, false, owner, st, &why, error_r);
	if (ret != MB_STORE_CORRUPT)
		goto out;
	if (!move_corrupt) {
		*error_r = mb_xasprintf("state file %s is corrupt (%s)", path,
					why);
		goto out;
	}
	aside = store_move_aside(path);
	e = errno;
	cmd = mb_owner_command(acct->state_dir);
	if (aside == NULL) {
		*error_r = mb_xasprintf("state file %s is corrupt (%s) and "
			"could not be moved aside: %s; move it away, then run "
			"`%s authorize %s` or `%s import %s`", path, why,
			mb_errstr(e), cmd, acct->name, cmd, acct->name);
	} else {
		*error_r = mb_xasprintf("state file %s was corrupt (%s); it "
			"was kept as %s; run `%s authorize %s` (or `%s import "
			"%s` with the refresh token on standard input)", path,
			why, aside, cmd, acct->name, cmd, acct->name);
		free(aside);
	}
	free(cmd);
out:
	free(why);
	free(path);
	if (ret == MB_STORE_FOUND && seen != NULL)
		seen->fd = fd;
	else if (fd >= 0)
		close(fd);
	return ret;
}

enum mb_store_read_result
mb_files_read(const struct mb_account *acct, bool move_corrupt,
	      struct mb_state *st, char **error_r)
{
	return store_read(acct, move_corrupt, st, NULL, error_r);
}

enum mb_store_read_result
mb_files_read_seen(const struct mb_account *acct, struct mb_state *st,
		   struct mb_store_seen *seen, char **error_r)
{
	return store_read(acct, false, st, seen, error_r);
}

bool
mb_files_seen_current(const struct mb_account *acct,
		      const struct mb_store_seen *seen)
{
	const struct stat *held;
	struct stat now;
	char *path;
	bool same;

	if (seen == NULL || seen->fd < 0)
		return false;
	held = &seen->sb;
	path = mb_store_path(acct, ".json");
	/* Held open, the file keeps its inode number: the same number at
	 * the path is the same file.  Its size and times, as they were when
	 * it was read, tell whether it was written in place since (never by
	 * us; perhaps by hand). */
	same = lstat(path, &now) == 0 &&
	       now.st_dev == held->st_dev && now.st_ino == held->st_ino &&
	       now.st_size == held->st_size &&
	       now.st_mtim.tv_sec == held->st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == held->st_mtim.tv_nsec &&
	       now.st_ctim.tv_sec == held->st_ctim.tv_sec &&
	       now.st_ctim.tv_nsec == held->st_ctim.tv_nsec;
	free(path);
	return same;
}

void
mb_store_seen_close(struct mb_store_seen *seen)
{
	if (seen == NULL || seen->fd < 0)
		return;
	close(seen->fd);
	seen->fd = -1;
}

static int
store_sync_dir(const char *dir)
{
	int dfd, ret;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	ret = fsync(dfd);
	close(dfd);
	return ret;
}

void
mb_store_release(struct mb_store_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path != NULL && !t->keep)
		unlink(t->path);
	free(t->path);
	t->path = NULL;
	t->keep = false;
}

int
mb_files_reserve(const struct mb_account *acct, const struct mb_state *cur,
		 struct mb_store_tmp *t, char **error_r)
{
	char *text = cur != NULL ? mb_state_encode(cur) : NULL;
	off_t size = MB_STATE_RESERVE;
	int e;

	*error_r = NULL;
	t->fd = -1;
	t->keep = false;
	t->path = mb_store_path(acct, MB_TMP_SUFFIX "XXXXXX");
	if (text != NULL)
		size += (off_t)strlen(text);
	mb_free_secret(&text);
	if (mb_store_prepare_dir(acct->state_dir, error_r) < 0)
		goto fail;
	/* mkostemp: O_EXCL, mode 0600; never an existing file. */
	t->fd = mkostemp(t->path, O_CLOEXEC);
	if (t->fd < 0) {
		e = errno;
		*error_r = mb_xasprintf("cannot create a file in the state "
			"directory %s: %s", acct->state_dir, mb_errstr(e));
		free(t->path);
		t->path = NULL;
		return -1;
	}
	e = posix_fallocate(t->fd, 0, size);
	if (e == 0 && fsync(t->fd) < 0)
		e = errno;
	if (e != 0) {
		*error_r = mb_xasprintf("cannot reserve %lld bytes in the "
			"state directory %s: %s", (long long)size,
			acct->state_dir, mb_errstr(e));
		goto fail;
	}
	return 0;
fail:
	mb_store_release(t);
	return -1;
}

static int
store_pwrite_all(int fd, const char *buf, size_t len)
{
	off_t off = 0;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int
mb_files_commit(const struct mb_account *acct, struct mb_store_tmp *t,
		struct mb_state *st, char **error_r)
{
	char *path = mb_store_path(acct, ".json");
	char *text = NULL;
	int ret = -1;
	size_t len;

	*error_r = NULL;
	if (t->fd < 0 || t->path == NULL) {
		*error_r = mb_xstrdup("no file reserved for the state");
		goto out;
	}
	st->updated = time(NULL);
	st->generation++;
	text = mb_state_encode(st);
	if (text == NULL) {
		*error_r = mb_xstrdup("cannot encode the state (out of "
				      "memory)");
		goto out;
	}
	len = strlen(text);
	if (store_pwrite_all(t->fd, text, len) < 0 ||
	    ftruncate(t->fd, (off_t)len) < 0 || fsync(t->fd) < 0) {
		*error_r = mb_xasprintf("cannot write %s: %s", t->path,
					mb_errstr(errno));
		goto out;
	}
	mb_store_crash_point("after-tmp-write");
	if (rename(t->path, path) < 0) {
		/* Complete and synced: the next run adopts it. */
		t->keep = true;
		*error_r = mb_xasprintf("cannot replace %s: %s (the new state "
			"is kept in %s)", path, mb_errstr(errno), t->path);
		goto out;
	}
	free(t->path);
	t->path = NULL;
	mb_store_crash_point("after-rename");
	/* The rename is durable once the directory is. */
	if (store_sync_dir(acct->state_dir) < 0) {
		*error_r = mb_xasprintf("cannot sync the state directory %s: "
					"%s", acct->state_dir,
					mb_errstr(errno));
		goto out;
	}
	ret = 0;
out:
	mb_free_secret(&text);
	free(path);
	return ret;
}

int
mb_files_write(const struct mb_account *acct, struct mb_state *st,
	       char **error_r)
{
	struct mb_store_tmp t = MB_STORE_TMP_INIT;
	int ret;

	if (mb_files_reserve(acct, st, &t, error_r) < 0)
		return -1;
	ret = mb_files_commit(acct, &t, st, error_r);
	mb_store_release(&t);
	return ret;
}

/* name is <account>.json.tmp-XXXXXX as mkostemp makes it. */
static bool
store_is_our_tmp(const struct mb_account *acct, const char *name)
{
	size_t n = strlen(acct->name), k = strlen(MB_TMP_SUFFIX), i;

	if (strncmp(name, acct->name, n) != 0 ||
	    strncmp(name + n, MB_TMP_SUFFIX, k) != 0 ||
	    strlen(name + n + k) != MB_TMP_RANDOM)
		return false;
	for (i = n + k; name[i] != '\0'; i++) {
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	}
	return true;
}

/* Reads a leftover temporary file; *gen_r is its generation, or -1 when
 * it is not a complete state (then it is to be removed).  false: not
 * ours to touch (not a regular file of ours with mode 0600). */
static bool
store_tmp_generation(const char *path, long long *gen_r)
{
	struct mb_state st;
	char *why = NULL, *err = NULL;
	int fd;
	bool ours = true;

	*gen_r = -1;
	fd = mb_store_open_regular(path, O_RDONLY, 0, "temporary file",
				   &err);
	if (fd < 0) {
		free(err);
		return false;
	}
	switch (store_load(fd, path, true, geteuid(), &st, &why, &err)) {
	case MB_STORE_FOUND:
		*gen_r = st.generation;
		break;
	case MB_STORE_CORRUPT:
		break;
	default:
		ours = false;
		break;
	}
	mb_state_clear(&st);
	free(why);
	free(err);
	close(fd);
	return ours;
}
/* Generation of the state file: -1 missing or corrupt, -2 unreadable. */
#define MB_GEN_UNREAD (-3)
static long long
store_main_generation(const struct mb_account *acct)
{
	struct mb_state st;
	char *err = NULL;
	long long gen;

	switch (mb_files_read(acct, false, &st, &err)) {
	case MB_STORE_FOUND:
		gen = st.generation;
		break;
	case MB_STORE_MISSING:
	case MB_STORE_CORRUPT:
		gen = -1;
		break;
	default:
		gen = -2;
		break;
	}
	mb_state_clear(&st);
	free(err);
	return gen;
}

int
mb_files_recover(const struct mb_account *acct, char **error_r)
{
	char *best = NULL, *path = NULL, *main_path;
	long long main_gen = MB_GEN_UNREAD, best_gen = -1, gen;
	struct dirent *e;
	DIR *dh;
	int ret = 0;

	*error_r = NULL;
	dh = opendir(acct->state_dir);
	if (dh == NULL) {
		*error_r = mb_xasprintf("cannot read the state directory %s: "
					"%s", acct->state_dir,
					mb_errstr(errno));
		return -1;
	}
	while ((e = readdir(dh)) != NULL) {
		if (!store_is_our_tmp(acct, e->d_name))
			continue;
		/* Read only when there is something to compare with: a
		 * refresh reads the state file once. */
		if (main_gen == MB_GEN_UNREAD)
			main_gen = store_main_generation(acct);
		path = mb_xasprintf("%s/%s", acct->state_dir, e->d_name);
		if (!store_tmp_generation(path, &gen)) {
			mb_log(LOG_WARNING, "%s: leaving %s alone: not a "
			       "state file of ours", acct->name, path);
		} else if (main_gen > -2 && gen > main_gen &&
			   gen > best_gen) {
			if (best != NULL)
				unlink(best);
			free(best);
			best = path;
			best_gen = gen;
			path = NULL;
		} else {
			unlink(path);
		}
		free(path);
		path = NULL;
	}
	closedir(dh);
	if (best == NULL)
		return 0;
	main_path = mb_store_path(acct, ".json");
	if (rename(best, main_path) < 0 ||
	    store_sync_dir(acct->state_dir) < 0) {
		*error_r = mb_xasprintf("cannot put the newer state %s in "
			"place of %s: %s", best, main_path, mb_errstr(errno));
		ret = -1;
	} else {
		mb_log(LOG_NOTICE, "%s: recovered the state an interrupted "
		       "write left in %s", acct->name, best);
		ret = 1;
	}
	free(main_path);
	free(best);
	return ret;
}

int
mb_files_lock(const struct mb_account *acct, int *fd_r, char **error_r)
{
	char *path;
	int fd;

	*fd_r = -1;
	*error_r = NULL;
	if (mb_store_prepare_dir(acct->state_dir, error_r) < 0)
		return -1;
	path = mb_store_path(acct, ".lock");
	fd = mb_store_open_regular(path, O_RDWR | O_CREAT, 0600, "lock file",
				   error_r);
	if (fd < 0 && errno == EROFS) {
		/* flock(2) needs no write access: on a read-only file
		 * system the caller gets as far as the real cause. */
		free(*error_r);
		fd = mb_store_open_regular(path, O_RDONLY, 0, "lock file",
					   error_r);
	}
	if (fd < 0) {
		if (*error_r == NULL)
			*error_r = mb_xasprintf("cannot open the lock file "
				"%s: %s", path, mb_errstr(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		*error_r = mb_xasprintf("cannot lock %s: %s", path,
					mb_errstr(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	*fd_r = fd;
	return 0;
}

void
mb_files_unlock(int *fd)
{
	if (fd == NULL || *fd < 0)
		return;
	flock(*fd, LOCK_UN);
	close(*fd);
	*fd = -1;
}

/* Whether name is the account's state file or one of its leftovers
 * (temporary files, corrupt files moved aside: they may hold tokens). */
static bool
files_is_state_file(const char *acct, const char *name)
{
	size_t n = strlen(acct);

	if (strncmp(name, acct, n) != 0 || strncmp(name + n, ".json", 5))
		return false;
	name += n + 5;
	return *name == '\0' || strncmp(name, ".tmp-", 5) == 0 ||
	       strncmp(name, ".corrupt-", 9) == 0;
}

/* Removes the state file and its leftovers, syncs the directory.
 * Returns the number removed, or -1 after logging. */
int
mb_files_remove(const struct mb_account *a, char **error_r)
{
	DIR *d = opendir(a->state_dir);
	struct dirent *e;
	int n = 0, fd;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = mb_xasprintf("%s: %s", a->state_dir,
					mb_errstr(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!files_is_state_file(a->name, e->d_name))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			*error_r = mb_xasprintf("%s/%s: %s", a->state_dir,
						e->d_name, mb_errstr(errno));
			n = -1;
			break;
		}
		n++;
	}
	fd = dirfd(d);
	if (n > 0 && fsync(fd) < 0)
		mb_log(LOG_WARNING, "%s: fsync: %s", a->state_dir,
		       mb_errstr(errno));
	closedir(d);
	return n;
}

#include <config.h>	/* autoconf; "config.h" here is ours */

#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "wipe.h"
#include "xalloc.h"

#define MB_STATE_MAX_SIZE (1024 * 1024)

void
mb_state_clear(struct mb_state *st)
{
	if (st == NULL)
		return;
	mb_free_secret(&st->refresh_token);
	mb_free_secret(&st->access_token);
	free(st->scope);
	free(st->reason);
	free(st->last_error);
	memset(st, 0, sizeof(*st));
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
					strerror(errno));
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

int
mb_store_prepare_dir(const char *dir, char **error_r)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			*error_r = mb_xasprintf("state directory %s: %s", dir,
						strerror(errno));
			return -1;
		}
		if (store_mkdirs(dir, error_r) < 0)
			return -1;
		if (stat(dir, &st) < 0) {
			*error_r = mb_xasprintf("state directory %s: %s", dir,
						strerror(errno));
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		*error_r = mb_xasprintf("state directory %s is not a "
					"directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		*error_r = mb_xasprintf("state directory %s belongs to uid "
			"%ld, not to the uid running mailbearer (%ld); run: "
			"chown %ld %s", dir, (long)st.st_uid,
			(long)geteuid(), (long)geteuid(), dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("state directory %s is accessible by "
			"group or others (mode %04o); run: chmod 700 %s", dir,
			(unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
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

enum mb_store_read_result
mb_store_read(const struct mb_account *acct, bool move_corrupt,
	      struct mb_state *st, char **error_r)
{
	enum mb_store_read_result ret = MB_STORE_ERROR;
	char *path = mb_store_path(acct, ".json");
	char *text = NULL, *why = NULL, *aside;
	struct stat sb;
	size_t len = 0;
	ssize_t n;
	int fd = -1;

	memset(st, 0, sizeof(*st));
	*error_r = NULL;
	if (mb_store_prepare_dir(acct->state_dir, error_r) < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			ret = MB_STORE_MISSING;
			goto out;
		}
		*error_r = mb_xasprintf("cannot open the state file %s: %s",
					path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		*error_r = mb_xasprintf("state file %s is not a regular file",
					path);
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		*error_r = mb_xasprintf("state file %s belongs to uid %ld, "
			"not to the uid running mailbearer (%ld); run: chown "
			"%ld %s", path, (long)sb.st_uid, (long)geteuid(),
			(long)geteuid(), path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		*error_r = mb_xasprintf("state file %s is accessible by group "
			"or others (mode %04o); refusing to read tokens from "
			"it; run: chmod 600 %s", path,
			(unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	if (sb.st_size > MB_STATE_MAX_SIZE) {
		why = mb_xstrdup("too large");
	} else {
		text = mb_xmalloc((size_t)sb.st_size + 1);
		while (len < (size_t)sb.st_size) {
			n = read(fd, text + len, (size_t)sb.st_size - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				*error_r = mb_xasprintf("cannot read the state"
					" file %s: %s", path, strerror(errno));
				goto out;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		text[len] = '\0';
		if (mb_json_state_decode(text, len, st, &why) == 0) {
			ret = MB_STORE_FOUND;
			goto out;
		}
	}
	ret = MB_STORE_CORRUPT;
	if (!move_corrupt) {
		*error_r = mb_xasprintf("state file %s is corrupt (%s)", path,
					why);
		goto out;
	}
	aside = store_move_aside(path);
	if (aside == NULL) {
		*error_r = mb_xasprintf("state file %s is corrupt (%s) and "
			"could not be moved aside: %s; move it away, then run "
			"`mailbearer authorize %s` or `mailbearer import %s`",
			path, why, strerror(errno), acct->name, acct->name);
	} else {
		*error_r = mb_xasprintf("state file %s was corrupt (%s); it "
			"was kept as %s; run `mailbearer authorize %s` (or "
			"`mailbearer import %s` with the refresh token on "
			"standard input)", path, why, aside, acct->name,
			acct->name);
		free(aside);
	}
out:
	if (text != NULL) {
		mb_wipe(text, len);
		free(text);
	}
	free(why);
	free(path);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int
store_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
mb_store_write(const struct mb_account *acct, struct mb_state *st,
	       char **error_r)
{
	char *path = mb_store_path(acct, ".json");
	char *tmp = mb_store_path(acct, ".json.tmp-XXXXXX");
	char *text = NULL;
	bool tmp_made = false;
	int fd = -1, dfd = -1, ret = -1;

	*error_r = NULL;
	if (mb_store_prepare_dir(acct->state_dir, error_r) < 0)
		goto out;
	st->updated = time(NULL);
	text = mb_json_state_encode(st);
	if (text == NULL) {
		*error_r = mb_xstrdup("cannot encode the state (out of "
				      "memory)");
		goto out;
	}
	/* mkstemp creates the file 0600. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		*error_r = mb_xasprintf("cannot create %s: %s", tmp,
					strerror(errno));
		goto out;
	}
	tmp_made = true;
	if (fchmod(fd, 0600) < 0 ||
	    store_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		*error_r = mb_xasprintf("cannot write %s: %s", tmp,
					strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = mb_xasprintf("cannot write %s: %s", tmp,
					strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		*error_r = mb_xasprintf("cannot replace %s: %s", path,
					strerror(errno));
		goto out;
	}
	tmp_made = false;
	/* The rename is durable once the directory is. */
	dfd = open(acct->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		*error_r = mb_xasprintf("cannot sync the state directory %s: "
					"%s", acct->state_dir,
					strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp_made)
		unlink(tmp);
	mb_free_secret(&text);
	free(tmp);
	free(path);
	return ret;
}

int
mb_store_lock(const struct mb_account *acct, int *fd_r, char **error_r)
{
	char *path;
	int fd;

	*fd_r = -1;
	*error_r = NULL;
	if (mb_store_prepare_dir(acct->state_dir, error_r) < 0)
		return -1;
	path = mb_store_path(acct, ".lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*error_r = mb_xasprintf("cannot open the lock file %s: %s",
					path, strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		*error_r = mb_xasprintf("cannot lock %s: %s", path,
					strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	*fd_r = fd;
	return 0;
}

void
mb_store_unlock(int *fd)
{
	if (fd == NULL || *fd < 0)
		return;
	flock(*fd, LOCK_UN);
	close(*fd);
	*fd = -1;
}

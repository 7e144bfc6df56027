/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "serve-user.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errtext.h"
#include "log.h"
#include "owner.h"

int
mb_serve_user_lookup(const char *name, struct mb_serve_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e;

	memset(u, 0, sizeof(*u));
	e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		mb_log(LOG_ERR, "--user %s: no such user%s%s", name,
		       e != 0 ? ": " : "", e != 0 ? mb_errstr(e) : "");
		return -1;
	}
	if (strlen(pw.pw_name) >= sizeof(u->name)) {
		mb_log(LOG_ERR, "--user %s: name too long", name);
		return -1;
	}
	if (pw.pw_uid == 0) {
		mb_log(LOG_ERR, "--user %s: serve does not run as root; name "
		       "the user that owns the state (" MB_SERVICE_USER ")",
		       name);
		return -1;
	}
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	if (geteuid() == 0) {
		u->drop = true;
		return 0;
	}
	if (geteuid() != u->uid) {
		mb_log(LOG_ERR, "--user %s: only root can run serve as "
		       "another user; start it as root, or as %s without "
		       "--user", name, u->name);
		return -1;
	}
	return 0;
}

int
mb_serve_user_drop(const struct mb_serve_user *u)
{
	gid_t groups[1];

	if (!u->drop)
		return 0;
	if (initgroups(u->name, u->gid) < 0 &&
	    setgroups(0, groups) < 0) {
		mb_log(LOG_ERR, "--user %s: setgroups: %s", u->name,
		       mb_errstr(errno));
		return -1;
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0) {
		mb_log(LOG_ERR, "--user %s: cannot switch to uid %ld gid %ld: "
		       "%s", u->name, (long)u->uid, (long)u->gid,
		       mb_errstr(errno));
		return -1;
	}
	/* For good: neither root nor root's group can come back. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 ||
	    getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid) {
		mb_log(LOG_ERR, "--user %s: root privileges could be "
		       "regained after dropping them; refusing to run",
		       u->name);
		return -1;
	}
	/* setuid(2) may make the process dumpable again (suid_dumpable):
	 * it holds secrets. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	mb_log(LOG_INFO, "running as %s (uid %ld, gid %ld)", u->name,
	       (long)u->uid, (long)u->gid);
	return 0;
}

int
mb_serve_user_check_root(const struct mb_config *cfg)
{
	char name[64];
	struct stat st;

	if (geteuid() != 0)
		return 0;
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		const char *dir = cfg->accounts[i].state_dir;

		/* a fleet's state is in etcd, not in state_dir */
		if (cfg->accounts[i].fleet != NULL || dir == NULL ||
		    stat(dir, &st) != 0 || st.st_uid == 0)
			continue;
		mb_owner_name(st.st_uid, name, sizeof(name));
		mb_log(LOG_ERR, "serve runs as root, but the state directory "
		       "%s belongs to %s, who must write it: start serve as "
		       "root with --user %s (it binds the sockets as root, "
		       "then runs as %s), or as %s", dir, name, name, name,
		       name);
		return -1;
	}
	return 0;
}

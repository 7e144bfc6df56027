/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "owner.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* getpwuid_r into the caller's buffers: thread-safe (serve's workers
 * build fix texts too).  NULL when uid has no entry. */
static struct passwd *
owner_pw(uid_t uid, struct passwd *pw, char *buf, size_t size)
{
	struct passwd *res = NULL;

	if (getpwuid_r(uid, pw, buf, size, &res) != 0)
		return NULL;
	return res;
}

const char *
mb_owner_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw;
	char pwbuf[1024];

	if (owner_pw(uid, &pw, pwbuf, sizeof(pwbuf)) != NULL &&
	    strlen(pw.pw_name) < size)
		snprintf(buf, size, "%s", pw.pw_name);
	else
		snprintf(buf, size, "uid %ld", (long)uid);
	return buf;
}

bool
mb_owner_is_service(uid_t uid)
{
	struct passwd pw;
	char pwbuf[1024];
	const char *sh, *base;

	if (uid == 0 || owner_pw(uid, &pw, pwbuf, sizeof(pwbuf)) == NULL)
		return false;
	sh = pw.pw_shell != NULL ? pw.pw_shell : "";
	base = strrchr(sh, '/');
	base = base != NULL ? base + 1 : sh;
	return strcmp(base, "nologin") == 0 || strcmp(base, "false") == 0;
}

char *
mb_owner_command(const char *state_dir)
{
	struct passwd pw;
	char pwbuf[1024];
	struct stat st;

	if (state_dir == NULL || stat(state_dir, &st) != 0 ||
	    (st.st_uid == geteuid() && !mb_owner_is_service(st.st_uid)) ||
	    owner_pw(st.st_uid, &pw, pwbuf, sizeof(pwbuf)) == NULL)
		return mb_xstrdup("mailbearer");
	return mb_owner_run_as(pw.pw_name);
}

char *
mb_owner_run_as(const char *name)
{
	return mb_xasprintf("runuser -u %s -- mailbearer", name);
}

char *
mb_owner_advice(const char *state_dir, const char *text)
{
	static const char mark[] = "`mailbearer ";
	char *cmd = mb_owner_command(state_dir), *out, *o;
	const char *p, *hit;
	size_t n = 0, clen = strlen(cmd);

	if (strcmp(cmd, "mailbearer") == 0) {
		free(cmd);
		return mb_xstrdup(text);
	}
	for (p = text; (hit = strstr(p, mark)) != NULL; p = hit + 1)
		n++;
	out = o = mb_xmalloc(strlen(text) + n * clen + 1);
	for (p = text; (hit = strstr(p, mark)) != NULL;
	     p = hit + sizeof(mark) - 1) {
		memcpy(o, p, (size_t)(hit - p) + 1);	/* up to the ` */
		o += hit - p + 1;
		memcpy(o, cmd, clen);
		o += clen;
		*o++ = ' ';
	}
	memcpy(o, p, strlen(p) + 1);
	free(cmd);
	return out;
}

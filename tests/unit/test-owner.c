/* SPDX-License-Identifier: MIT */
/* tokenhelper/owner.c: the one place fix texts get "how to run mailbearer
 * as the state's owner" from.  A directory of the user running the test
 * (a user who logs in): "mailbearer", advice unchanged.  As root, a
 * directory of uid 65534 (nobody: a nologin account, like the packaged
 * mailbearer): "runuser -u nobody -- mailbearer", in every "`mailbearer "
 * of an advice text. */
#include <config.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owner.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/mb-owner.XXXXXX", name[64], want[256];
	const char *reason = "the provider refused it; run `mailbearer "
		"authorize` (or `mailbearer import a` with the token)";
	struct passwd *pw;
	char *s;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp failed");
	s = mb_owner_command(dir);
	if (geteuid() != 0 || !mb_owner_is_service(geteuid()))
		tap_is_str(s, "mailbearer", "own directory: mailbearer");
	free(s);
	s = mb_owner_command("/nonexistent/mailbearer-state");
	tap_is_str(s, "mailbearer", "no directory yet: mailbearer");
	free(s);
	s = mb_owner_advice("/nonexistent/x", reason);
	tap_is_str(s, reason, "advice unchanged for one's own directory");
	free(s);
	tap_is_str(mb_owner_name(0, name, sizeof(name)), "root",
		   "uid 0 is root");
	tap_is_str(mb_owner_name(4000000, name, sizeof(name)),
		   "uid 4000000", "a uid without an account");

	pw = getpwuid(65534);
	if (geteuid() != 0 || pw == NULL || chown(dir, 65534, -1) != 0) {
		tap_skip(3, "needs root and uid 65534");
	} else {
		tap_ok(mb_owner_is_service(65534), "%s has no login shell",
		       pw->pw_name);
		snprintf(want, sizeof(want), "runuser -u %s -- mailbearer",
			 pw->pw_name);
		s = mb_owner_command(dir);
		tap_is_str(s, want, "root, a directory of uid 65534: runuser");
		free(s);
		s = mb_owner_advice(dir, reason);
		snprintf(want, sizeof(want), "the provider refused it; run "
			 "`runuser -u %s -- mailbearer authorize` (or `runuser "
			 "-u %s -- mailbearer import a` with the token)",
			 pw->pw_name, pw->pw_name);
		tap_is_str(s, want, "... in every command of an advice");
		free(s);
	}
	rmdir(dir);
	return tap_done();
}

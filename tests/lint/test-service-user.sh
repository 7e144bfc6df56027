#!/bin/sh
# SPDX-License-Identifier: MIT
# The service user of the system instance has one definition: configure's
# --with-user (default in configure.ac), which reaches the C code as
# MB_SERVICE_USER (config.h) and the systemd units as @mb_user@.  The
# Debian postinst, which creates the user, cannot read configure: its
# MB_USER must be configure's default.  Nothing else writes the name as
# a user: no User=/Group=/runuser -u/chown with it in contrib/*.in, no
# "runuser -u mailbearer", "sudo -u mailbearer", getpwnam("mailbearer")
# or "chown mailbearer" in C ("journalctl -u mailbearer" names the unit).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir" || exit 1
echo "1..3"
failed=0

def=$(sed -n 's/.*\[mb_user=\([A-Za-z0-9_-]*\)\]).*/\1/p' configure.ac)
pkg=$(sed -n 's/^MB_USER=\([A-Za-z0-9_-]*\)$/\1/p' \
	debian/mailbearer.postinst 2>/dev/null)
if [ ! -e debian/mailbearer.postinst ] && [ ! -e .git ]; then
	# make dist ships no debian/ (the package is built from the tree)
	echo "ok 1 # SKIP no debian/ in a release tarball"
elif [ -n "$def" ] && [ "$def" = "$pkg" ]; then
	echo "ok 1 - debian/mailbearer.postinst creates configure's default user ($def)"
else
	echo "not ok 1 - debian/mailbearer.postinst creates configure's default user"
	echo "# configure.ac default: '$def'; postinst MB_USER: '$pkg'"
	failed=1
fi

out=$(grep -nE '^(User|Group)=[^@]|runuser -u [^@]|chown [a-z]*:?mailbearer' \
	contrib/*.in contrib/user/*.in 2>/dev/null)
if [ -z "$out" ]; then
	echo "ok 2 - the units name the user as @mb_user@"
else
	echo "not ok 2 - the units name the user as @mb_user@"
	printf '%s\n' "$out" | sed 's/^/# /'
	failed=1
fi

out=$(grep -nE -- '(runuser|sudo) -u mailbearer|getpwnam\("mailbearer"\)|chown mailbearer' \
	common/*.[ch] plugin/*.[ch] tokenhelper/*.[ch] 2>/dev/null)
if [ -z "$out" ]; then
	echo "ok 3 - the C code names the user through MB_SERVICE_USER"
else
	echo "not ok 3 - the C code names the user through MB_SERVICE_USER"
	printf '%s\n' "$out" | sed 's/^/# /'
	failed=1
fi
[ "$failed" = 0 ]

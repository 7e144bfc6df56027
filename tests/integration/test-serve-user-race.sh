#!/bin/sh
# SPDX-License-Identifier: MIT
# serve --user as root never lets the service user turn a path it binds
# or creates into root's chmod/chown of another file.  serve chowns the
# directories it creates to the user (the recipe's /run/mailbearer and
# the chroot's run/mailbearer), so on a restart root binds in a directory
# the user owns: the user can replace the new socket, or a directory just
# made, by a symlink before root's next step.  libraceshim plays that user
# winning every race (MB_RACE_BIND, MB_RACE_MKDIR): a root-only file and
# a root-only directory must keep their mode, owner and group, and serve
# must refuse to go on.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (serve binds as root, then --user)"
owner=$(id -nu 65534 2> /dev/null) || skip_all "no user with uid 65534"
shim=$top_builddir/tests/fixtures/.libs/libraceshim.so
[ -f "$shim" ] || skip_all "no $shim"
grp=$(id -ng 65534)
token_setup
chmod 711 "$MB_TMP"
sd=$MB_TMP/lib/mailbearer
mkdir -p "$sd" && chmod 700 "$sd" && chown 65534 "$sd"
MB_ACCT_STATE_DIR=$sd mb_conf_account "$MB_CONF" svc@example.com generic \
	'allow = 0'
chmod 644 "$MB_CONF"

victim=$MB_TMP/shadow
printf 'root:secret\n' > "$victim" && chmod 600 "$victim"
vdir=$MB_TMP/rootonly
mkdir -p "$vdir" && chmod 700 "$vdir"
run=$MB_TMP/run/mailbearer
mkdir -p "$run" && chown 65534 "$run"

is() {
	if [ "$2" = "$3" ]; then ok 0 "$1"; else
		ok 1 "$1"; diag "want: $2" "got:  $3"; fi
}
serve() {
	timeout 15 env LD_PRELOAD="$shim" "$@" "$MB_HELPER" serve \
		--config "$MB_CONF" --user "$owner" --foreground "$sock" \
		< /dev/null > /dev/null 2> "$MB_TMP/serve.err"
}

# the socket replaced by a symlink right after bind(2)
sock="--socket=$run/socket"
serve MB_RACE_BIND="$victim"
rc=$?
check "socket swapped after bind: serve refuses (exit $rc)" \
	test "$rc" != 0 -a "$rc" != 124
is "... the file it pointed to keeps mode 600" "600" \
	"$(stat -c %a "$victim")"
rm -f "$run/socket"
sock="--socket=$run/socket,mode=0666,group=$grp"
serve MB_RACE_BIND="$victim"
is "... and its group (a socket with group=$grp)" "root 600" \
	"$(stat -c '%G %a' "$victim")"
rm -f "$run/socket"

# a directory serve creates replaced by a symlink right after mkdir(2)
sock="--socket=$run/sub/socket"
serve MB_RACE_MKDIR="$vdir"
rc=$?
check "directory swapped after mkdir: serve refuses (exit $rc)" \
	test "$rc" != 0 -a "$rc" != 124
is "... the directory it pointed to stays root's" "root 700" \
	"$(stat -c '%U %a' "$vdir")"
check "... with no socket put in it" test ! -e "$vdir/socket"
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# Which configuration file: for root the system file, always, unless
# --config or MAILBEARER_CONFIG says otherwise; root's own
# ~/.config/mailbearer/config is named as not read, never silently used
# instead of the system's (mailbearer(1) FILES).  Another user's per-user
# file is read when it exists.  The system file's directory is an empty
# tmpfs in a private mount namespace: an installed mailbearer's
# /etc/mailbearer is never read, and status probes a private socket.
if [ -z "${MB_CONFROOT_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare --mount --propagation private true 2> /dev/null; then
	MB_CONFROOT_NS=1 exec unshare --mount --propagation private \
		sh "$0" "$@"
fi
. "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "checks root's choice; needs root"
need_helper
# The system configuration's directory, as make installs it.
sysdir=$(grep -E '^(prefix|exec_prefix|sysconfdir) = ' \
	"$top_builddir/Makefile" | { cat; printf 'mbp:\n\t@echo $(sysconfdir)\n'; } |
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
	-f - mbp 2> /dev/null)/mailbearer
if [ -d "$sysdir" ] && [ -n "${MB_CONFROOT_NS:-}" ]; then
	mount -t tmpfs -o size=1m,mode=755 mbconfroot "$sysdir" ||
		bail_out "cannot hide $sysdir in the private namespace"
fi
H=$MB_TMP/home
U=$H/.config/mailbearer/config
mkdir -p "$H/.config/mailbearer"
printf '[a@example.com]\nprovider = google\nclient_id = x\n' > "$U"
chmod 600 "$U"

# st NAME ENV...: `mailbearer status` with HOME=$H and ENV; out and err.
st() {
	st_n=$1
	shift
	env -u MAILBEARER_CONFIG -u XDG_CONFIG_HOME -u XDG_RUNTIME_DIR \
		MAILBEARER_SOCKET="$MB_TMP/no-serve.sock" HOME="$H" "$@" \
		timeout 20 "$MB_HELPER" status \
		> "$MB_TMP/$st_n.out" 2> "$MB_TMP/$st_n.err"
}

st root
contains "root with a per-user file: says it is not read" "$MB_TMP/root.err" \
	"^mailbearer: $U is not read as root: using /[^ ]*/mailbearer/mailbearer\\.conf \\(--config or MAILBEARER_CONFIG choose another\\)\$"
lacks "... and does not read it" "$MB_TMP/root.out" "^configuration: $U\$"
lacks "... nor its account" "$MB_TMP/root.out" "a@example\\.com"
SYS=$(sed -n 's/.* is not read as root: using \(\/[^ ]*\) (.*/\1/p' \
	"$MB_TMP/root.err")
check "... the system file is the one make installs" \
	test "$SYS" = "$sysdir/mailbearer.conf"
if [ -f "${SYS:-/nonexistent}" ]; then
	skip "there is a system file (no private namespace): not checked"
else
	contains "... the system file is the one read" "$MB_TMP/root.err" \
		"^mailbearer: error: $SYS: cannot open the configuration"
fi

st env MAILBEARER_CONFIG="$U"
contains "root, MAILBEARER_CONFIG: that file" "$MB_TMP/env.out" \
	"^configuration: $U\$"
lacks "... with no note" "$MB_TMP/env.err" 'is not read as root'

env -u MAILBEARER_CONFIG -u XDG_CONFIG_HOME HOME="$H" timeout 20 \
	"$MB_HELPER" --config "$U" status > "$MB_TMP/opt.out" \
	2> "$MB_TMP/opt.err"
contains "root, --config: that file" "$MB_TMP/opt.out" "^configuration: $U\$"
lacks "... with no note" "$MB_TMP/opt.err" 'is not read as root'

mkdir -p "$MB_TMP/xdg/mailbearer"
cp "$U" "$MB_TMP/xdg/mailbearer/config"
st xdg XDG_CONFIG_HOME="$MB_TMP/xdg"
contains "root, XDG_CONFIG_HOME's file: not read either" "$MB_TMP/xdg.err" \
	"^mailbearer: $MB_TMP/xdg/mailbearer/config is not read as root"

# Another user: the per-user file is read (when that user can run the
# build's binary).
chmod 0755 "$MB_TMP" "$H" "$H/.config" "$H/.config/mailbearer"
chmod 0644 "$U"
if command -v setpriv > /dev/null 2>&1 &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	test -x "$MB_HELPER" 2>/dev/null; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -u MAILBEARER_CONFIG -u XDG_CONFIG_HOME -u XDG_RUNTIME_DIR \
		MAILBEARER_SOCKET="$MB_TMP/no-serve.sock" HOME="$H" \
		timeout 20 "$MB_HELPER" status > "$MB_TMP/user.out" \
		2> "$MB_TMP/user.err"
	contains "another user: the per-user file is read" "$MB_TMP/user.out" \
		"^configuration: $U\$"
	lacks "... with no note" "$MB_TMP/user.err" 'is not read as root'
else
	skip "user nobody cannot run $MB_HELPER"
	skip "user nobody cannot run $MB_HELPER"
fi
done_testing

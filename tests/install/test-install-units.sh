#!/bin/sh
# SPDX-License-Identifier: MIT
# `make install DESTDIR=...` installs the systemd units (system and per
# user) with the configured directories substituted, the example
# configuration and the usage guides; systemd-analyze verify accepts the
# units when it is available.
. "$top_srcdir/tests/lib/tap.sh"

need_helper
mk=$top_builddir/Makefile
# mkvar NAME: a variable of the build's Makefile, expanded here against
# the variables set so far (bounded).
mkvar() {
	mv_v=$(sed -n "s/^$1 = //p" "$mk" | sed -n 1p |
		sed 's/\$(\([A-Za-z_]*\))/${\1}/g')
	mv_i=0
	while [ $mv_i -lt 10 ]; do
		case $mv_v in *'$'*) ;; *) break ;; esac
		eval "mv_v=\"$mv_v\""
		mv_i=$((mv_i + 1))
	done
	printf '%s\n' "$mv_v"
}
prefix=$(mkvar prefix)
exec_prefix=$(mkvar exec_prefix)
datarootdir=$(mkvar datarootdir)
PACKAGE_TARNAME=$(mkvar PACKAGE_TARNAME)
dest=$MB_TMP/dest
bindir=$(mkvar bindir)
sysconfdir=$(mkvar sysconfdir)
localstatedir=$(mkvar localstatedir)
runstatedir=$(mkvar runstatedir)
sock=$(mkvar mb_socket)
unitdir=$(mkvar systemdsystemunitdir)
userunitdir=$(mkvar systemduserunitdir)
docdir=$(mkvar docdir)
diag "bindir=$bindir unitdir=$unitdir socket=$sock docdir=$docdir"

${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$dest" \
	>"$MB_TMP/install.log" 2>&1
ok $? "make install DESTDIR"
sed -n '1,20p' "$MB_TMP/install.log" | diag_stdin

sys=$dest$unitdir
usr=$dest$userunitdir
for f in "$sys/mailbearer.service" "$sys/mailbearer.socket" \
	"$sys/mailbearer-postfix.socket" "$usr/mailbearer.service" \
	"$usr/mailbearer.socket" "$dest$docdir/examples/mailbearer.conf.example" \
	"$dest$docdir/usage-serve.md" "$dest$docdir/usage-postfix.md" \
	"$dest$docdir/systemd.md"; do
	check "installed ${f#$dest}" test -s "$f"
done
cat "$sys"/mailbearer* "$usr"/mailbearer* >"$MB_TMP/units" 2>/dev/null
lacks "no @placeholder@ left" "$MB_TMP/units" '@[a-z_]+@'
lacks "no \${variable} left" "$MB_TMP/units" '\$\{'
contains "service runs the installed program with the system config" \
	"$sys/mailbearer.service" \
	"^ExecStart=$bindir/mailbearer serve --config $sysconfdir/mailbearer/mailbearer.conf "
contains "service may write the configured state directory" \
	"$sys/mailbearer.service" "^ReadWritePaths=-$localstatedir/lib/mailbearer\$"
contains "service runs as user mailbearer" "$sys/mailbearer.service" \
	'^User=mailbearer$'
contains "socket listens on the configured socket" \
	"$sys/mailbearer.socket" "^ListenStream=$sock\$"
contains "postfix socket is the same path in the chroot" \
	"$sys/mailbearer-postfix.socket" \
	"^ListenStream=/var/spool/postfix$sock\$"
contains "postfix socket is for group postfix" \
	"$sys/mailbearer-postfix.socket" '^SocketGroup=postfix$'
contains "user socket in the runtime directory" "$usr/mailbearer.socket" \
	'^ListenStream=%t/mailbearer/socket$'
contains "user service runs the installed program" \
	"$usr/mailbearer.service" "^ExecStart=$bindir/mailbearer serve "

# systemd-analyze verify: ExecStart must name an executable, so point the
# copies at the installed program in DESTDIR.
if command -v systemd-analyze >/dev/null 2>&1; then
	v=$MB_TMP/verify
	mkdir -p "$v"
	for f in "$sys"/mailbearer*; do
		sed "s|^ExecStart=$bindir/|ExecStart=$dest$bindir/|" "$f" \
			>"$v/${f##*/}"
	done
	# unknown users/groups (mailbearer, postfix) are not the units' fault
	(cd "$v" && SYSTEMD_LOG_LEVEL=warning timeout 60 systemd-analyze \
		verify --man=no ./mailbearer.service ./mailbearer.socket \
		./mailbearer-postfix.socket) >"$v/log" 2>&1
	rc=$?
	grep -v 'Failed to resolve user\|Failed to resolve group\|group.*not found\|user.*not found' \
		"$v/log" >"$v/rest"
	sed -n '1,20p' "$v/log" | diag_stdin
	check "systemd-analyze verify: system units" test $rc = 0 -o ! -s "$v/rest"
	uv=$MB_TMP/uverify
	mkdir -p "$uv"
	for f in "$usr"/mailbearer*; do
		sed "s|^ExecStart=$bindir/|ExecStart=$dest$bindir/|" "$f" \
			>"$uv/${f##*/}"
	done
	mkdir -p "$MB_TMP/rt" && chmod 700 "$MB_TMP/rt"
	(cd "$uv" && XDG_RUNTIME_DIR=$MB_TMP/rt SYSTEMD_LOG_LEVEL=warning \
		timeout 60 systemd-analyze \
		--user verify --man=no ./mailbearer.service \
		./mailbearer.socket) >"$uv/log" 2>&1
	ok $? "systemd-analyze verify: user units"
	sed -n '1,20p' "$uv/log" | diag_stdin
else
	skip "systemd-analyze not installed"
	skip "systemd-analyze not installed"
fi
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages: dpkg-buildpackage -us -uc -b from a clean copy of
# the source tree (tests/lib/pkg.sh pkg_build: built once per build tree,
# shared with test-pkg-install.sh; nothing installed on the machine),
# lintian without errors or unexplained warnings, the file lists of both
# packages, and no test hook (MB_TEST_*) in their programs.  About 45 s
# on two cores (the build, when this test makes it).  Skipped without
# debhelper/lintian, in make distcheck (debian/ is not distributed) and
# in the ASan build of tests/run.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pkg.sh"
pkg_need
command -v lintian >/dev/null 2>&1 || skip_all "lintian not installed"

pkg_build
rc=$?
check "dpkg-buildpackage -us -uc -b" test $rc = 0
[ $rc = 0 ] || tail -n 40 "$pkg_log" | diag_stdin
# debian/rules configures for the fast tests only (unit and lint): the
# package builds on a host where mailbearer is installed and running.
contains "the package build's make check runs the fast tests only" \
	"$pkg_log" '^  make check runs  : fast tests$'

check "libsasl2-modules-mailbearer built" test -n "$plugin_deb"
check "mailbearer built" test -n "$helper_deb"

if [ -n "$plugin_deb" ] && [ -n "$helper_deb" ]; then
	dpkg -c "$plugin_deb" | awk '{ print $6 }' >"$MB_TMP/plugin.list"
	dpkg -c "$helper_deb" | awk '{ print $6 }' >"$MB_TMP/helper.list"
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	contains "plugin in libsasl2's multiarch plugin directory" \
		"$MB_TMP/plugin.list" "^\\./usr/lib/$ma/sasl2/libmailbearer\\.so\$"
	lacks "no .la file" "$MB_TMP/plugin.list" '\.la$'
	lacks "the plugin package has no helper" "$MB_TMP/plugin.list" \
		'bin/mailbearer$'
	for f in ./usr/bin/mailbearer ./usr/share/man/man1/mailbearer.1.gz \
		./usr/share/man/man5/mailbearer.conf.5.gz \
		./lib/systemd/system/mailbearer.service \
		./lib/systemd/system/mailbearer.socket \
		./lib/systemd/system/mailbearer-postfix.socket \
		./usr/lib/systemd/user/mailbearer.service \
		./usr/lib/systemd/user/mailbearer.socket \
		./usr/share/doc/mailbearer/examples/mailbearer.conf.example \
		./usr/share/doc/mailbearer/usage-serve.md \
		./usr/share/doc/mailbearer/systemd.md \
		./usr/share/doc/mailbearer/copyright; do
		contains "mailbearer ships $f" "$MB_TMP/helper.list" "^$f(\\.gz)?\$"
	done
	dpkg-deb -x "$helper_deb" "$MB_TMP/x"
	dpkg-deb -x "$plugin_deb" "$MB_TMP/x"
	# debian/rules configures like a plain ./configure: the test hooks
	# (MB_TEST_*, --enable-test-hooks) are in neither program.
	contains "the package's configure says: no test hooks" \
		"$pkg_log" '^  test hooks +: no$'
	strings "$MB_TMP/x/usr/bin/mailbearer" \
		"$MB_TMP/x/usr/lib/$ma/sasl2/libmailbearer.so" \
		> "$MB_TMP/strings" 2>&1
	contains "strings of the packaged programs read" "$MB_TMP/strings" \
		'MAILBEARER_SOCKET'
	lacks "no test hook in the packaged programs" "$MB_TMP/strings" \
		'MB_TEST_'
	contains "service uses /usr/bin and /etc" \
		"$MB_TMP/x/lib/systemd/system/mailbearer.service" \
		'^ExecStart=/usr/bin/mailbearer serve --config /etc/mailbearer/mailbearer.conf '
	contains "socket at /run/mailbearer/socket" \
		"$MB_TMP/x/lib/systemd/system/mailbearer.socket" \
		'^ListenStream=/run/mailbearer/socket$'
	dpkg-deb -e "$helper_deb" "$MB_TMP/ctl"
	contains "postinst creates the system user" "$MB_TMP/ctl/postinst" \
		'adduser --system'
	contains "postinst enables the socket (deb-systemd-helper)" \
		"$MB_TMP/ctl/postinst" 'deb-systemd-helper.*mailbearer\.socket'
	contains "postrm removes the state on purge" "$MB_TMP/ctl/postrm" \
		'rm -rf /var/lib/mailbearer'
	for u in mailbearer.socket mailbearer-postfix.socket \
		mailbearer.service; do
		contains "prerm stops $u on remove" "$MB_TMP/ctl/prerm" \
			"deb-systemd-invoke stop .*$u"
	done
	# An upgrade stops nothing first (the Postfix socket would stay
	# stopped); the new binary serves after the postinst's restarts.
	touch "$MB_TMP/ctl/preinst"
	lacks "preinst stops nothing on upgrade" "$MB_TMP/ctl/preinst" \
		'deb-systemd-invoke stop'
	contains "postinst try-restarts a running mailbearer.service" \
		"$MB_TMP/ctl/postinst" \
		'deb-systemd-invoke try-restart mailbearer\.service'
	contains "... and restarts mailbearer.socket" "$MB_TMP/ctl/postinst" \
		"_dh_action=restart"
	contains "mailbearer ships README.md" "$MB_TMP/helper.list" \
		'^\./usr/share/doc/mailbearer/README\.md(\.gz)?$'
	contains "debian/copyright names the license" \
		"$MB_TMP/x/usr/share/doc/mailbearer/copyright" '^License: MIT$'
	lacks "... and no unknown license" \
		"$MB_TMP/x/usr/share/doc/mailbearer/copyright" 'unknown'

	timeout 600 lintian --fail-on none --tag-display-limit 0 \
		"$plugin_deb" "$helper_deb" >"$MB_TMP/lintian.log" 2>&1
	ok $? "lintian ran"
	sed -n '1,40p' "$MB_TMP/lintian.log" | diag_stdin
	lacks "lintian: no errors" "$MB_TMP/lintian.log" '^E: '
	lacks "lintian: no warnings (fixed or overridden)" \
		"$MB_TMP/lintian.log" '^W: '
else
	skip "no packages to look at"
fi
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# configure's closing summary shows the paths as installed (no ${prefix}
# or ${runstatedir} left), equal to what make expands for the same
# variables; configure requires the json-c the code needs; it says
# whether the test hooks are built in.
. "$top_srcdir/tests/lib/tap.sh"

log=$top_builddir/config.log
built "$log"
# The summary block: from "  mailbearer VERSION" to the next empty line.
awk '/^  mailbearer [0-9]/ { on = 1 } on && /^$/ { exit } on' "$log" \
	> "$MB_TMP/summary"
contains "config.log holds the configure summary" "$MB_TMP/summary" \
	'^  plugin directory : '

# field NAME: the value of "  NAME : value" in the summary.
field() {
	sed -n "s/^  $1 *: //p" "$MB_TMP/summary"
}
# make_var NAME: make's expansion of $(NAME) with the build tree's
# directory variables (copied out, so the build tree is never remade).
dirs='prefix|exec_prefix|bindir|libdir|sysconfdir|localstatedir|runstatedir'
grep -E "^($dirs|plugindir|mb_socket) = " "$top_builddir/Makefile" \
	> "$MB_TMP/dirs.mk"
make_var() {
	cp "$MB_TMP/dirs.mk" "$MB_TMP/print.mk"
	printf 'mb-print-var:\n\t@echo $(%s)\n' "$1" >> "$MB_TMP/print.mk"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
		-f "$MB_TMP/print.mk" mb-print-var 2>/dev/null
}

# same LABEL WANT: the summary's LABEL is absolute, expanded and WANT.
same() {
	got=$(field "$1")
	case $got in
	*'$'*|'') ok 1 "summary: $1 is expanded"; diag "got '$got'" ;;
	*) ok 0 "summary: $1 is expanded" ;;
	esac
	if [ "$got" = "$2" ]; then
		ok 0 "summary: $1 is what make installs"
	else
		ok 1 "summary: $1 is what make installs"
		diag "summary '$got', make '$2'"
	fi
}

same "plugin directory" "$(make_var plugindir)"
same "helper socket" "$(make_var mb_socket)"
if [ "$(field "token helper")" = yes ]; then
	same "helper program" "$(make_var bindir)/mailbearer"
	same "system config" "$(make_var sysconfdir)/mailbearer/mailbearer.conf"
	same "system state" "$(make_var localstatedir)/lib/mailbearer"
	contains "configure requires json-c 0.14" "$log" \
		'checking for json-c >= 0\.1[4-9]'
else
	skip "no token helper: no helper paths, no json-c"
fi

# The summary says whether the test hooks (MB_TEST_*) are built in, as
# config.h does; tests/run builds with them (test-pkg-build.sh shows a
# package build without them).
if grep -q '^#define MB_TEST_HOOKS 1' "$top_builddir/config.h"; then
	hooks=yes
else
	hooks=no
fi
check "summary: test hooks is $hooks, as config.h says" \
	test "$(field "test hooks")" = "$hooks"

# The code's needs and configure's requirement agree.
if grep -q json_tokener_get_parse_end "$top_srcdir"/tokenhelper/*.c; then
	contains "json_tokener_get_parse_end() is used: json-c >= 0.14" \
		"$top_srcdir/configure.ac" 'json-c >= 0\.(1[4-9]|[2-9][0-9])'
fi
done_testing

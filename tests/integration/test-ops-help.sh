#!/bin/sh
# SPDX-License-Identifier: MIT
# Every command's --help (and -h, and `mailbearer help COMMAND`) prints
# that command's usage on stdout, exit 0, not the program's list of
# commands; `mailbearer --help` prints the list.
. "$top_srcdir/tests/lib/tap.sh"
need_helper
for c in authorize token import status revoke doctor serve help version; do
	for h in --help -h "help-cmd"; do
		if [ "$h" = help-cmd ]; then
			"$MB_HELPER" help "$c" > "$MB_TMP/out" 2> "$MB_TMP/err"
		else
			"$MB_HELPER" "$c" "$h" > "$MB_TMP/out" 2> "$MB_TMP/err"
		fi
		rc=$?
		check "$c $h: exit 0, its usage first" test "$rc" = 0 -a \
			"$(head -n 1 "$MB_TMP/out" | cut -d ' ' -f 1-3)" = \
			"usage: mailbearer $c"
		lacks "... not the list of commands" "$MB_TMP/out" '^Commands:'
	done
done
"$MB_HELPER" --help > "$MB_TMP/out" 2> "$MB_TMP/err"
check "mailbearer --help: exit 0" test $? = 0
contains "... the list of commands" "$MB_TMP/out" '^Commands:'
contains "... and how to see a command's options" "$MB_TMP/out" \
	'mailbearer COMMAND --help'
"$MB_HELPER" help nosuch > "$MB_TMP/out" 2> "$MB_TMP/err"
check "help of an unknown command: exit 64" test $? = 64
done_testing

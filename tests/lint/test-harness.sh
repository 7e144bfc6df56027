#!/bin/sh
# The harness itself (tests/lib/tap.sh): a fixture that make check builds
# and that is missing is a failure (`built` bails out), never a skip; and
# the removal of $MB_TMP at exit never goes into a mount a test left
# there (rm --one-file-system: the mount's files are not the test's).
. "$top_srcdir/tests/lib/tap.sh"

# child BODY: a test script sourcing tap.sh and running BODY.
child() {
	printf '. "%s/tests/lib/tap.sh"\n%s\n' "$top_srcdir" "$1" \
		> "$MB_TMP/child.sh"
	TMPDIR=$MB_TMP sh "$MB_TMP/child.sh" > "$MB_TMP/child.out" 2>&1
}

child 'built "$MB_TMP/no-such-fixture"; echo "ok 1 - after"'
check "built, fixture missing: exit status 1" test $? = 1
contains "... with a Bail out! naming it" "$MB_TMP/child.out" \
	'^Bail out! .*/no-such-fixture not built \(make check builds it\)$'
lacks "... and nothing after it runs" "$MB_TMP/child.out" 'ok 1 - after'
lacks "... never a skip" "$MB_TMP/child.out" 'SKIP'
child 'built "$MB_TMP"; echo "ok 1 - after"; echo 1..1'
check "built, fixture there: goes on" test $? = 0

# A mount left in the child's $MB_TMP, in a private mount namespace (the
# host never sees it): its file must survive the child's exit.
if [ "$(id -u)" = 0 ] &&
    unshare --mount --propagation private true 2> /dev/null; then
	cat > "$MB_TMP/ns.sh" <<'EON'
printf '. "%s/tests/lib/tap.sh"\n%s\n' "$top_srcdir" \
	'mkdir "$MB_TMP/m" && mount -t tmpfs mbharness "$MB_TMP/m" &&
	 echo kept > "$MB_TMP/m/file" && echo "$MB_TMP" > "$1/where"' \
	> "$1/child.sh"
TMPDIR=$1 sh "$1/child.sh" "$1" > /dev/null 2>&1
d=$(cat "$1/where")
if [ -f "$d/m/file" ]; then r=kept; else r=removed; fi
umount "$d/m" 2> /dev/null
rm -rf "$d"
echo "$r"
EON
	r=$(unshare --mount --propagation private sh "$MB_TMP/ns.sh" "$MB_TMP")
	check "rm at exit does not go into a mount left in \$MB_TMP ($r)" \
		test "$r" = kept
else
	skip "the mount case needs root and a private mount namespace"
fi
done_testing

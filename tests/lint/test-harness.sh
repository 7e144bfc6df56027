#!/bin/sh
# SPDX-License-Identifier: MIT
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

# The closing line counts a failed step of tests/run (make distcheck's
# results are not where it looks): never "0 failed" for a failed run.
mkdir -p "$MB_TMP/sum/t"
printf ':test-result: PASS\n:test-result: SKIP\n' > "$MB_TMP/sum/t/a.trs"
out=$(MB_STEPS_FAILED=1 sh "$top_srcdir/tests/lib/summary.sh" "$MB_TMP/sum/t")
check "summary: a failed step is a failure ($out)" \
	test "$out" = "1 passed, 1 failed, 1 skipped"
out=$(sh "$top_srcdir/tests/lib/summary.sh" "$MB_TMP/sum/t")
check "summary: no failed step ($out)" test "$out" = "1 passed, 0 failed, 1 skipped"

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

# no_secrets (tests/lib/token.sh) proves something only when it has a
# secret to look for and a file to look in.
child '. "$top_srcdir/tests/lib/token.sh"
echo output > "$MB_TMP/f"
: > "$MB_TMP/secrets"
no_secrets "nothing remembered" "$MB_TMP/f"
echo s3cr3t-value > "$MB_TMP/secrets"
no_secrets "no file" "$MB_TMP/nosuch"
no_secrets "clean" "$MB_TMP/f"
echo "s3cr3t-value" >> "$MB_TMP/f"
no_secrets "leaked" "$MB_TMP/f"'
contains "no_secrets fails when no secret was remembered" \
	"$MB_TMP/child.out" '^not ok 1 - nothing remembered$'
contains "... and when none of its files exists" "$MB_TMP/child.out" \
	'^not ok 2 - no file$'
contains "... passes a clean file" "$MB_TMP/child.out" '^ok 3 - clean$'
contains "... and fails a leak" "$MB_TMP/child.out" '^not ok 4 - leaked$'

# --- The test scripts themselves -------------------------------------
# The files checked: every shell test and the harness's helpers.
scripts=$(cd "$top_srcdir" && ls tests/integration/*.sh tests/install/*.sh \
	tests/lib/*.sh)
# Files of the serve engine's rewrite (issue 12), which fixes them there:
# a finding in one of them is a TODO (reported, not a failure) until then.
engine_owned='tests/integration/test-serve-pidfile.sh'
# joined FILE: FILE with the lines ending in ||, && or \ joined to the
# next, each as "FILE:LINE: TEXT".
joined() {
	awk -v f="$1" '{ if (buf == "") { n = FNR; buf = $0 } else
		buf = buf " " $0 }
		buf ~ /(\|\||&&|\\)[ \t]*$/ { next }
		{ print f ":" n ": " buf; buf = "" }
		END { if (buf != "") print f ":" n ": " buf }' "$top_srcdir/$1"
}
# finding NAME FILE: one assertion that FILE (the findings, one a line)
# is empty; the findings are shown.  Findings all in engine-owned files
# are a TODO.
finding() {
	if [ ! -s "$2" ]; then
		ok 0 "$1"
	elif ! grep -qvF "$engine_owned" "$2"; then
		echo "not ok $((tap_n + 1)) - $1 # TODO the serve engine's rewrite"
		tap_n=$((tap_n + 1))
		diag_stdin < "$2"
	else
		ok 1 "$1"
		diag_stdin < "$2"
	fi
}

# A build product or fixture that is missing fails the test (built,
# need_helper, bail_out), never skips it: no "[ -x $MB_HELPER ] ||
# skip_all", no "start_ca || skip_all", no probe of the plugin's strings.
: > "$MB_TMP/skips"
for f in $scripts; do
	joined "$f" | grep -E \
	    -e '\[ -[efxsr] "?\$\{?(MB_HELPER|MB_PLUGIN_SO|MB|MB_CA[A-Z_]*|top_builddir|log)\b[^]]*\][^#]*skip_all' \
	    -e 'start_[a-z_]+[^|]*\|\|[^#]*skip_all' \
	    -e 'grep -[A-Za-z]*a[A-Za-z]* .*(MB_PLUGIN_SO|\.so\b).*(skip_all|then)' \
	    >> "$MB_TMP/skips"
done
finding "no missing build product or fixture turned into a skip" \
	"$MB_TMP/skips"

# No assertion that cannot fail: "ok 0" only as the branch of a test.
: > "$MB_TMP/ok0"
for f in $scripts; do
	[ "$f" != tests/lib/tap.sh ] || continue
	awk -v f="$f" '/^[ \t]*ok 0([ \t]|$)/ &&
		prev !~ /(then|else|do|\)|\|\||&&|\\)[ \t]*$/ {
			print f ":" FNR ": " $0 }
		NF { prev = $0 }' "$top_srcdir/$f" >> "$MB_TMP/ok0"
done
finding "no unconditional ok 0" "$MB_TMP/ok0"

# No test reads the host's /etc/mailbearer or /run/mailbearer (an
# installed mailbearer's configuration, state and serve socket): those
# paths appear only under a private root ($root/etc/mailbearer), in a
# command run in test-pkg-install.sh's chroot (in_root, as_mb, st,
# no_link), in an assertion's name or in an expected pattern ('^...').
: > "$MB_TMP/host"
for f in $scripts; do
	joined "$f" | sed 's/^[^:]*://' | grep -E '/(etc|run)/mailbearer' |
		grep -vE '^[0-9]+:[[:space:]]*#' |
		grep -vE '(in_root|as_mb|no_link) |\$\(st ' |
		sed -E -e 's,\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/(etc|run)/mailbearer,,g' \
		    -e "s,'\\^[^']*',,g" \
		    -e 's,^([0-9]+:[[:space:]]*)(check|contains|lacks|is|yes_|ok [^ ]+) "[^"]*",\1\2,' |
		grep -E '/(etc|run)/mailbearer' | sed "s,^,$f:," >> "$MB_TMP/host"
done
finding "no test names the host's /etc/mailbearer or /run/mailbearer" \
	"$MB_TMP/host"
done_testing

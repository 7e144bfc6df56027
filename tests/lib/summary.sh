#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the closing line "N passed, N failed, N skipped" from automake's
# .trs files found under the given directories (one :test-result: line per
# TAP assertion).  ERROR and XPASS count as failed, XFAIL as passed.
# A test script whose .log exists but whose .trs does not (killed, hung)
# counts as one failure so that nothing disappears silently, and so does
# each step tests/run counted in MB_STEPS_FAILED (a failed make distcheck,
# whose results are not under these directories; a build that did not
# finish): the line never says 0 failed for a run that failed.
pass=0 fail=0 skip=0
for dir in "$@"; do
	[ -d "$dir" ] || continue
	for trs in $(find "$dir" -name '*.trs' 2>/dev/null | sort); do
		while read -r key val _; do
			[ "$key" = ":test-result:" ] || continue
			case $val in
			PASS|XFAIL) pass=$((pass + 1)) ;;
			SKIP) skip=$((skip + 1)) ;;
			*) fail=$((fail + 1)) ;;
			esac
		done < "$trs"
	done
	for log in $(find "$dir" -name 'test-*.log' \
		     2>/dev/null | sort); do
		[ -f "${log%.log}.trs" ] || fail=$((fail + 1))
	done
done
case ${MB_STEPS_FAILED:-0} in
''|*[!0-9]*) fail=$((fail + 1)) ;;
*) fail=$((fail + ${MB_STEPS_FAILED:-0})) ;;
esac
echo "$pass passed, $fail failed, $skip skipped"

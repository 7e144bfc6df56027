#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs libFuzzer targets for a bounded time each: run.sh SRCDIR BUILDDIR
# TARGET...  Each target works on a scratch copy of its seed corpus
# (SRCDIR/corpus/TARGET, never written) in BUILDDIR/work/TARGET, for
# FUZZ_SECONDS (default 60) seconds, with a per-input timeout.  A crash,
# leak, timeout or sanitizer report fails the run; the input is kept as
# BUILDDIR/crash-TARGET-*.  Prints one line per target with libFuzzer's
# execution count, and the log's tail on failure; BUILDDIR/fuzz-TARGET.trs
# holds its result for tests/lib/summary.sh.
set -u
src=$1 build=$2
shift 2
secs=${FUZZ_SECONDS:-60}
case $secs in ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number" >&2
	exit 2 ;; esac
status=0
for t in "$@"; do
	bin=$build/fuzz-$t work=$build/work/$t log=$build/fuzz-$t.log
	rm -rf "$work"
	mkdir -p "$work" || exit 1
	if [ -d "$src/corpus/$t" ]; then
		cp "$src/corpus/$t"/* "$work"/ 2>/dev/null || true
	fi
	# -max_total_time bounds the run; timeout(1) bounds a hung one.
	# TMPDIR: the config target's file stays in the build tree.
	TMPDIR=$build/work timeout $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$build/crash-$t-" "$work" > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	corp=$(find "$work" -type f | wc -l)
	# One TAP-like result for tests/lib/summary.sh.
	res=PASS
	[ "$rc" = 0 ] || res=FAIL
	echo ":test-result: $res fuzz-$t" > "$build/fuzz-$t.trs"
	if [ "$rc" = 0 ]; then
		echo "fuzz $t: ok, ${runs:-?} executions in ${secs}s," \
			"corpus $corp inputs"
	else
		echo "fuzz $t: FAILED (exit $rc); log $log"
		tail -n 40 "$log"
		status=1
	fi
done
exit "$status"

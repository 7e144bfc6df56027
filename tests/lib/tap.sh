# SPDX-License-Identifier: MIT
# Shell test library: TAP output, a private temporary directory removed on
# exit, bounded waits.  Source it first thing in every test script.
# Every wait here is bounded; network use is 127.0.0.1 / ::1 only.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/_build}"
export top_srcdir top_builddir
if [ -z "${SASL_PATH:-}" ]; then
	. "$top_srcdir/tests/lib/env.sh"
fi

tap_n=0
tap_failed=0
MB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mb-test.XXXXXX")
export MB_TMP
mb_cleanup_hooks=
# at_exit CMD: run CMD (a shell string) when the test exits, last added first.
at_exit() { mb_cleanup_hooks="$1; $mb_cleanup_hooks"; }
mb_exit() {
	rc=$?
	eval "$mb_cleanup_hooks" >/dev/null 2>&1
	if [ "${MB_KEEP_TMP:-}" = 1 ]; then
		echo "# kept $MB_TMP"
	else
		# never into a mount a test left (its files are not ours)
		rm -rf --one-file-system "$MB_TMP"
	fi
	exit $rc
}
trap mb_exit EXIT
trap 'exit 130' INT TERM

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# bail_out WHY: a fixture or build product the test needs is broken: the
# test fails (never a skip).
bail_out() { echo "Bail out! $*"; exit 1; }
# not_sanitized WHAT: skip the whole test in the ASan+UBSan build
# (MB_SANITIZE=1, set by tests/run): WHAT (imtest, Postfix, mbsync, ...)
# is built without ASan and cannot load our plugin or shims built with it.
not_sanitized() {
	[ "${MB_SANITIZE:-}" != 1 ] ||
		skip_all "ASan build: $* cannot load the ASan-built plugin"
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
ok() {
	# ok STATUS NAME: STATUS 0 is success.
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
# check NAME CMD...: runs CMD, records ok/not ok.
check() { name=$1; shift; if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi; }
# contains NAME FILE PATTERN: FILE has a line matching the ERE PATTERN.
contains() {
	if grep -Eq -- "$3" "$2"; then ok 0 "$1"; else
		ok 1 "$1"; diag "no /$3/ in $2:"; sed -n '1,40p' "$2" | diag_stdin; fi
}
lacks() {
	if grep -Eq -- "$3" "$2"; then ok 1 "$1"; diag "unexpected /$3/ in $2:"
		grep -E -- "$3" "$2" | sed -n '1,5p' | diag_stdin; else ok 0 "$1"; fi
}
diag_stdin() { sed 's/^/# /'; }
done_testing() { echo "1..$tap_n"; [ "$tap_failed" = 0 ]; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s, at most SECONDS.
wait_for() {
	mb_limit=$(( $1 * 10 )); shift
	mb_i=0
	while [ "$mb_i" -lt "$mb_limit" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		mb_i=$((mb_i + 1))
	done
	return 1
}
# free_port: print a TCP port on 127.0.0.1 that is free right now.
free_port() {
	"$MB_PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# built PATH...: a program or module of the tests' own that `make check`
# builds (tests/fixtures/): missing is a failure, never a skip.
built() {
	for mb_c in "$@"; do
		[ -e "$mb_c" ] && continue
		echo "Bail out! $mb_c not built (make check builds it)"
		exit 1
	done
}
# test_hooks: this build has the test hooks (MB_TEST_*, configure
# --enable-test-hooks, as tests/run and make distcheck configure); a test
# that needs one fails without them, it does not skip.
test_hooks() {
	grep -q '^#define MB_TEST_HOOKS 1' "$top_builddir/config.h" \
		2>/dev/null && return 0
	echo "Bail out! this build has no test hooks:" \
		"configure with --enable-test-hooks"
	exit 1
}

# need_helper: the token helper ($MB_HELPER) is built, as make builds it:
# missing is a failure; only a tree configured with --disable-tokenhelper
# (MB_WITH_HELPER=no, from tests/local.mk) skips, saying so.
need_helper() {
	[ "${MB_WITH_HELPER:-yes}" != no ] ||
		skip_all "configured with --disable-tokenhelper: no mailbearer"
	built "$MB_HELPER"
}
need() {
	for mb_c in "$@"; do
		command -v "$mb_c" >/dev/null 2>&1 || [ -x "$mb_c" ] ||
			skip_all "$mb_c not installed"
	done
}

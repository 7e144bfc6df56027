#!/bin/sh
# SPDX-License-Identifier: MIT
# Cancellation (what `serve` does on SIGTERM): mb_cancel_all() aborts a
# transfer to a token endpoint that hangs, and wakes a back-off sleep,
# within a bounded time; the refresh ends as transient with "cancelled
# (mailbearer is shutting down)".
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
RUN=$top_builddir/tests/fixtures/leak-cancel-run
built "$RUN"
token_setup
# A long timeout: only cancellation can end the wait early.
MB_ACCT_TIMEOUT=30 mb_conf_account "$MB_CONF" c@example.com

# field NAME: a field of the driver's output line.
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$MB_TMP/run"; }

# --- a token endpoint that hangs after the request: aborted ---
mockctl fault token slow --delay 30
timeout 20 "$RUN" "$MB_CONF" c@example.com 700 5000 > "$MB_TMP/run" \
	2> "$MB_TMP/run.err"
diag "$(cat "$MB_TMP/run")"
# The driver waits 5 s after the cancellation (WAIT_MS), far less than
# the endpoint's 30-s hang: a result proves the cancellation ended it.
# How fast is shown, not asserted (no timing assertion).
check "hang: the refresh ends after the cancellation, not the hang" \
	grep -q '^result=' "$MB_TMP/run"
check "hang: transient" test "$(field result)" = 1
diag "hang: ended $(field elapsed_ms) ms after the cancellation"
contains "hang: says it was cancelled" "$MB_TMP/run" \
	'message=cancelled \(mailbearer is shutting down\)$'

# --- a back-off sleep (Retry-After: 8) wakes at once ---
mockctl reset faults
mockctl fault token 429 --retry-after 8
timeout 20 "$RUN" "$MB_CONF" c@example.com 1000 5000 > "$MB_TMP/run" \
	2> "$MB_TMP/run.err"
diag "$(cat "$MB_TMP/run")"
# Likewise: a result within 5 s of the cancellation, before the 8-s
# back-off sleep could have ended by itself, proves the sleep was woken.
check "back-off: the sleep is woken: the refresh ends before it would" \
	grep -q '^result=' "$MB_TMP/run"
check "back-off: transient" test "$(field result)" = 1
diag "back-off: ended $(field elapsed_ms) ms after the cancellation"
contains "back-off: says it was cancelled" "$MB_TMP/run" \
	'message=cancelled \(mailbearer is shutting down\)$'
check "back-off: one request only" test "$(mockctl count endpoints.token)" -le 2
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# SIGKILL at each point of a refresh under strict rotation (the test hook
# MB_TEST_CRASH_AT), TRIALS (2) times per point: after the rotated token is
# in the temporary file and after the rename, no grant is lost and the
# next run leaves no temporary file.  Right after the reply, before
# anything could be written, the new token dies with the process (like a
# kill during the request): the state stays intact and clean.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
test_hooks
token_setup
# The kill point is the hook's, not a race: one trial proves it, a second
# one proves it again from the state the first crash and recovery left.
# More trials repeat the same path (MB_CRASH_TRIALS=20 to try anyway).
TRIALS=${MB_CRASH_TRIALS:-2}
tmps() { ls "$MB_TMP/state" | grep -c 'json\.tmp-'; }
for point in after-tmp-write after-rename after-reply; do
	u=$point@example.com
	mb_conf_account "$MB_CONF" "$u"
	rt=$(mockctl account "$u" --client-id cid --rotation strict)
	printf '%s\n' "$rt" | mb import "$u"
	lost=0 left=0 killed=0 i=0
	while [ "$i" -lt "$TRIALS" ]; do
		i=$((i + 1))
		time_left "$u" -30
		MB_TEST_CRASH_AT=$point timeout 60 "$MB_HELPER" \
			--config "$MB_CONF" token "$u" > /dev/null 2>&1
		[ $? = 137 ] && killed=$((killed + 1))
		mb token "$u"
		rc=$?
		[ "$(tmps)" = 0 ] || left=$((left + 1))
		if [ "$rc" != 0 ]; then
			lost=$((lost + 1))
			# A new grant for the next trial.
			rt=$(mockctl account "$u" --client-id cid \
				--rotation strict)
			printf '%s\n' "$rt" | mb import "$u"
		fi
	done
	check "$point: killed in $killed of $TRIALS trials" \
		test "$killed" = "$TRIALS"
	check "$point: no temporary file left after the next run ($left)" \
		test "$left" = 0
	if [ "$point" = after-reply ]; then
		check "$point: the state stays readable" \
			test -n "$(st_get "$u" refresh_token)"
		diag "$point: $lost of $TRIALS grants lost (token in flight)"
	else
		check "$point: 0 of $TRIALS grants lost ($lost)" test "$lost" = 0
	fi
done
done_testing

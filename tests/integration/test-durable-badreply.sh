#!/bin/sh
# SPDX-License-Identifier: MIT
# Lost grants under strict rotation: a 2xx reply that carries a new
# refresh token but one unusable field must not kill the grant.  The new
# refresh token is saved before the rest is judged, the spent one is
# never retried, and the next refresh uses the new one and succeeds.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
kinds="bad_expires_zero bad_expires_negative bad_token_type
bad_no_access_token bad_access_token bad_trailing"
survived=0
for k in $kinds; do
	u=$(printf '%s' "$k" | tr _ -)@example.com
	mb_conf_account "$MB_CONF" "$u"
	rt=$(mockctl account "$u" --client-id cid --rotation strict)
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import "$u"
	mb token "$u"
	ok $? "$k: first token"
	remember_secret "$(cat "$MB_TMP/out")"
	time_left "$u" -30
	mockctl fault token "$k" > /dev/null
	mb token "$u"
	rc=$?
	check "$k: no expired token printed (exit $rc)" test "$rc" != 0
	check "$k: the spent refresh token was not retried" \
		test "$(mockctl count "users.$u.refresh")" = 2
	new=$(st_get "$u" refresh_token)
	remember_secret "$new"
	check "$k: the new refresh token is in the state" \
		test -n "$new" -a "$new" != "$rt"
	check "$k: not marked as needing authorization" \
		test "$(st_get "$u" needs_authorize)" = false
	contains "$k: the error says the reply was unusable" "$MB_TMP/err" \
		'unusable'
	mb token "$u"
	if [ $? = 0 ]; then survived=$((survived + 1)); fi
	remember_secret "$(cat "$MB_TMP/out")"
	check "$k: the next refresh used the new token and succeeded" \
		test "$(mockctl count "users.$u.refresh_ok")" = 3
done
check "6 of 6 grants survived ($survived)" test "$survived" = 6
check "no invalid_grant answered" \
	test "$(mockctl count errors.invalid_grant)" = 0
no_secrets "no token in any stderr output" "$MB_TMP/all-stderr"
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# A refresh request that has been sent is not abandoned early, and a
# refresh token whose request got no reply is never sent again to a
# provider that rotates strictly.
#
# 1. The provider (strict rotation) carries the grant out at once and
#    answers after 4 s, beyond the account's 2-s timeout but within
#    reply_timeout: one request, the token is served and saved, the grant
#    survives.
# 2. It never answers within reply_timeout (rotation = strict, 3 s):
#    one request, no retry; the state, `status`, the exit status and the
#    message say what happened and what to do; later calls send nothing;
#    `mailbearer token --refresh` tries once more knowingly and then
#    needs `authorize` (the provider had spent the token).
# 3. The same for a dropped connection (the provider did not carry the
#    request out): blocked the same way, and the knowing retry works.
# 4. provider = microsoft rotates strictly by default; the still-valid
#    access token is served while it lasts, with no request.
# 5. A provider that does not rotate (rotation = none): retrying stays
#    allowed.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup

# requests USER: token-endpoint requests that spent USER's refresh tokens.
requests() { mockctl count "users.$1.refresh"; }

# --- 1. the reply comes after timeout, within reply_timeout ---
u=late@example.com
mb_conf_account "$MB_CONF" "$u"
rt=$(mockctl account "$u" --client-id cid --rotation strict)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
ok $? "late: import"
n0=$(mockctl count endpoints.token)
mockctl fault token late --delay 4 --count 1 > /dev/null
mb token "$u"
ok $? "late: the reply after the 2-s timeout is awaited: exit 0"
at=$(cat "$MB_TMP/out")
remember_secret "$at"
check "late: exactly one token-endpoint request" \
	[ "$(mockctl count endpoints.token)" = $((n0 + 1)) ]
check "late: the token printed is the one saved" \
	[ -n "$at" -a "$(st_get "$u" access_token)" = "$at" ]
rt2=$(st_get "$u" refresh_token)
remember_secret "$rt2"
check "late: the rotated refresh token is saved" [ "$rt2" != "$rt" ]
check "late: nothing needs attention" \
	[ "$(st_get "$u" needs_authorize)" = false ]
time_left "$u" -30
mb token "$u"
ok $? "late: the grant survived: the next refresh works"
remember_secret "$(cat "$MB_TMP/out")"
remember_secret "$(st_get "$u" refresh_token)"

# --- 2. no reply within reply_timeout, rotation = strict ---
u=lost@example.com
mb_conf_account "$MB_CONF" "$u" generic "rotation = strict
reply_timeout = 3
notify = env > $MB_TMP/notify.tmp; mv $MB_TMP/notify.tmp $MB_TMP/notify.\$MAILBEARER_EVENT"
rt=$(mockctl account "$u" --client-id cid --rotation strict)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
ok $? "lost: import"
# the grant is carried out at once; the reply would come after 60 s
mockctl fault token late --delay 60 --count 1 > /dev/null
mb token "$u"
check "lost: exit 77 (a human must decide)" [ "$mb_rc" = 77 ]
check "lost: exactly one request, no retry" [ "$(requests "$u")" = 1 ]
contains "lost: the message says the request got no reply" \
	"$MB_TMP/err" 'a refresh request got no reply \(given up at .*no reply came within 3 s\)'
contains "... that nothing sends the token again" "$MB_TMP/err" \
	'nothing sends it automatically'
contains "... and what to do" "$MB_TMP/err" \
	"mailbearer token --refresh $u.*mailbearer authorize $u"
check "lost: the state records it (unanswered_at)" \
	[ "$(st_get "$u" unanswered_at)" -gt 0 ]
check "lost: ... and needs_authorize" \
	[ "$(st_get "$u" needs_authorize)" = true ]
check "lost: the refresh token is kept" \
	[ "$(st_get "$u" refresh_token)" = "$rt" ]
check "lost: notify runs (needs-authorize)" \
	wait_for 20 test -f "$MB_TMP/notify.needs-authorize"
contains "lost: ... its reason says what happened and what to do" \
	"$MB_TMP/notify.needs-authorize" \
	'^MAILBEARER_REASON=a refresh request got no reply.*nothing sends it automatically.*token --refresh'
mb status "$u"
check "lost: status exits 77" [ "$mb_rc" = 77 ]
contains "lost: status says what happened" "$MB_TMP/out" \
	'no reply.*token --refresh'
mb status --json "$u"
python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))["accounts"][0]
assert a["state"] == "needs_authorize", a["state"]
assert a["refresh_unanswered_at"], a
assert "no reply" in a["reason"], a["reason"]' "$MB_TMP/out"
ok $? "lost: status --json: needs_authorize, refresh_unanswered_at, reason"
mb token "$u"
check "lost: a later call exits 77 too" [ "$mb_rc" = 77 ]
check "lost: ... and sends nothing" [ "$(requests "$u")" = 1 ]
# serve reads the same state: it answers ERR and sends nothing either
check "lost: serve started" start_serve
r=$(python3 "$top_srcdir/tests/fixtures/ipc-client.py" "$SOCK" \
	"MAILBEARER1 TOKEN $u" --timeout 60)
case $r in "MAILBEARER1 ERR "*) ok 0 "lost: serve answers ERR";;
	*) ok 1 "lost: serve answers ERR"; diag "got: $r";; esac
check "lost: ... and sends nothing" [ "$(requests "$u")" = 1 ]
stop_pid "$spid"
mb token --refresh "$u"
check "lost: token --refresh tries once more: refused, exit 77" \
	[ "$mb_rc" = 77 ]
check "lost: ... with one more request" [ "$(requests "$u")" = 2 ]
contains "lost: ... the message says the lost request spent the token" \
	"$MB_TMP/err" 'needs .mailbearer authorize lost@example.com.: .*invalid_grant.*the refresh request that got no reply .* had used the refresh token'
check "lost: the state no longer offers the retry" \
	[ "$(st_get "$u" unanswered_at)" = 0 ]
mb token --refresh "$u"
check "lost: the dead grant is not tried again" [ "$(requests "$u")" = 2 ]

# --- 3. a dropped connection: the request was not carried out ---
u=drop@example.com
mb_conf_account "$MB_CONF" "$u" generic "rotation = strict"
rt=$(mockctl account "$u" --client-id cid --rotation strict)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
ok $? "drop: import"
n0=$(mockctl count endpoints.token)
mockctl fault token drop --count 1 > /dev/null
mb token "$u"
check "drop: exit 77" [ "$mb_rc" = 77 ]
check "drop: one request, not repeated" \
	[ "$(mockctl count endpoints.token)" = $((n0 + 1)) ]
mb token "$u"
check "drop: a later call sends nothing" \
	[ "$(mockctl count endpoints.token)" = $((n0 + 1)) ]
mockctl fault token 503 --count 3 > /dev/null
mb token --refresh "$u"
check "drop: token --refresh answered 503: exit 77" [ "$mb_rc" = 77 ]
contains "drop: ... says the retry failed and the mark stays" "$MB_TMP/err" \
	'the retry failed temporarily .*503.*the earlier request is still unanswered'
check "drop: ... still marked" [ "$(st_get "$u" unanswered_at)" -gt 0 ]
mb token --refresh "$u"
ok $? "drop: token --refresh: the token was good, exit 0"
remember_secret "$(cat "$MB_TMP/out")"
remember_secret "$(st_get "$u" refresh_token)"
check "drop: cleared" [ "$(st_get "$u" needs_authorize)" = false -a \
	"$(st_get "$u" unanswered_at)" = 0 ]
mb status "$u"
ok $? "drop: status is ok again"

# --- 4. provider = microsoft rotates strictly without being told ---
u=ms@example.com
mb_conf_account "$MB_CONF" "$u" microsoft "reply_timeout = 3
scope = https://mail.google.com/"
rt=$(mockctl account "$u" --client-id cid --rotation strict \
	--style microsoft)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
ok $? "microsoft: import"
mb token "$u"
ok $? "microsoft: a first token"
at=$(cat "$MB_TMP/out")
remember_secret "$at"
remember_secret "$(st_get "$u" refresh_token)"
# 5 minutes left: inside the 10-minute margin, so due, but still valid
time_left "$u" 300
n0=$(mockctl count endpoints.token)
mockctl fault token drop --count 1 > /dev/null
mb token "$u"
ok $? "microsoft: unanswered refresh, the still-valid token is printed"
check "microsoft: ... it is the current one" [ "$(cat "$MB_TMP/out")" = "$at" ]
check "microsoft: not repeated" \
	[ "$(mockctl count endpoints.token)" = $((n0 + 1)) ]
contains "microsoft: the warning names the provider's rotation" \
	"$MB_TMP/err" 'rotates refresh tokens strictly \(provider = microsoft\)'
check "microsoft: marked" [ "$(st_get "$u" unanswered_at)" -gt 0 ]
mb token "$u"
ok $? "microsoft: the token keeps being served while valid"
check "microsoft: ... with no request" \
	[ "$(mockctl count endpoints.token)" = $((n0 + 1)) ]
time_left "$u" -30
mb token "$u"
check "microsoft: once it has expired: exit 77, still no request" \
	[ "$mb_rc" = 77 -a "$(mockctl count endpoints.token)" = $((n0 + 1)) ]

# --- 5. rotation = none: retrying stays allowed ---
u=google@example.com
mb_conf_account "$MB_CONF" "$u" generic "reply_timeout = 3"
rt=$(mockctl account "$u" --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
ok $? "no rotation: import"
n0=$(mockctl count endpoints.token)
mockctl fault token drop --count 1 > /dev/null
mb token "$u"
ok $? "no rotation: the unanswered request is retried: exit 0"
remember_secret "$(cat "$MB_TMP/out")"
check "no rotation: two requests" \
	[ "$(mockctl count endpoints.token)" = $((n0 + 2)) ]
check "no rotation: nothing needs attention" \
	[ "$(st_get "$u" needs_authorize)" = false ]

no_secrets "no secret on stderr" "$MB_TMP/all-stderr"
done_testing

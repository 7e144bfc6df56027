#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer import` of other tools' token files, told apart by shape:
# sasl-xoauth2, mutt_oauth2.py (decrypted), any JSON object with a
# refresh_token; a still-valid access token is kept with its expiry; the
# tokens then work against the mock provider; bad input stores nothing.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
for a in sx mutt gen plain old cid bad far; do
	mb_conf_account "$MB_CONF" "$a@example.com"
done
cnt() { mockctl count "users.$1@example.com.refresh"; }
new_rt() {
	rt=$(mockctl account "$1@example.com" --client-id cid)
	remember_secret "$rt"
}
iso_local() { date -d "@$1" +%Y-%m-%dT%H:%M:%S.123456; }
now=$(date +%s)

# --- sasl-xoauth2: expiry is seconds since the epoch as a string ---
new_rt sx
printf '{"access_token": "sx-at-%s", "refresh_token": "%s", "expiry": "%s"}\n' \
	"$now" "$rt" $((now + 1800)) | mb import sx@example.com
ok $? "sasl-xoauth2 file: imported"
remember_secret "sx-at-$now"
contains "says which format" "$MB_TMP/out" 'sasl-xoauth2'
check "refresh token stored" test "$(st_get sx@example.com refresh_token)" = "$rt"
check "valid access token kept" \
	test "$(st_get sx@example.com access_token)" = "sx-at-$now"
check "its expiry kept" \
	test "$(st_get sx@example.com expires_at)" = $((now + 1800))
mb token sx@example.com
check "token: the imported access token, no request" \
	test "$(cat "$MB_TMP/out")" = "sx-at-$now" -a "$(cnt sx)" = 0
lacks "no secret on stdout" "$MB_TMP/out" "$rt"

# --- mutt_oauth2.py: local ISO time with microseconds, email, client ---
new_rt mutt
cat > "$MB_TMP/mutt.json" <<EOJ
{
  "registration": "google",
  "authflow": "localhostauthcode",
  "email": "mutt@example.com",
  "access_token": "mutt-at-$now",
  "access_token_expiration": "$(iso_local $((now + 2400)))",
  "refresh_token": "$rt",
  "client_id": "cid",
  "client_secret": "mutt-secret"
}
EOJ
remember_secret "mutt-at-$now"
remember_secret mutt-secret
mb import mutt@example.com < "$MB_TMP/mutt.json"
ok $? "mutt_oauth2.py file (several lines): imported"
contains "says which format" "$MB_TMP/out" 'mutt_oauth2\.py'
check "refresh token stored" test "$(st_get mutt@example.com refresh_token)" = "$rt"
check "access token kept" \
	test "$(st_get mutt@example.com access_token)" = "mutt-at-$now"
check "expiry read as local time" \
	test "$(st_get mutt@example.com expires_at)" = $((now + 2400))
lacks "the client secret is not stored" \
	"$MB_TMP/state/mutt@example.com.json" 'mutt-secret'

# --- an expired access token is dropped; the refresh token works ---
new_rt old
sed -e "s/mutt-at-$now/old-at/" -e "s/\"access_token_expiration\": \"[^\"]*\"/\"access_token_expiration\": \"$(iso_local $((now - 60)))\"/" \
	-e "s/mutt@/old@/" -e "s/\"refresh_token\": \"[^\"]*\"/\"refresh_token\": \"$rt\"/" \
	"$MB_TMP/mutt.json" | mb import old@example.com
ok $? "expired access token: imported"
check "expired access token dropped" \
	test -z "$(st_get old@example.com access_token)"
mb token old@example.com
check "token: refreshed with the imported refresh token" \
	test "$mb_rc" = 0 -a "$(cnt old)" = 1
remember_secret "$(cat "$MB_TMP/out")"

# --- any JSON object with a refresh_token ---
new_rt gen
printf '{"refresh_token": "%s", "token_type": "Bearer", "expires_in": 3600, "access_token": "gen-at"}' \
	"$rt" | mb import gen@example.com
ok $? "generic JSON: imported"
contains "says which format" "$MB_TMP/out" 'JSON'
check "refresh token stored" test "$(st_get gen@example.com refresh_token)" = "$rt"
check "access token without a known expiry dropped" \
	test -z "$(st_get gen@example.com access_token)"
mb token gen@example.com
check "token: works" test "$mb_rc" = 0
remember_secret "$(cat "$MB_TMP/out")"

# --- the plain form still works ---
new_rt plain
printf '  %s  \n' "$rt" | mb import plain@example.com
ok $? "plain refresh token: imported"
check "stored trimmed" test "$(st_get plain@example.com refresh_token)" = "$rt"

# --- a file issued to another client is refused ---
new_rt cid
printf '{"refresh_token": "%s", "client_id": "other-client"}' "$rt" |
	mb import cid@example.com
check "other client_id: exit 65" test $? = 65
contains "says which client ids" "$MB_TMP/err" 'other-client.*cid'
check "nothing stored" test ! -e "$MB_TMP/state/cid@example.com.json"

# --- bad input ---
for bad in '{"access_token": "x", "expiry": "1"}' '{"refresh_token": 5}' \
	'{"refresh_token": "a b"}' '{"refresh_token": "x"' '[1, 2]' ''; do
	printf '%s' "$bad" | mb import bad@example.com
	check "bad input '$bad': exit 65" test $? = 65
done
check "bad input: nothing stored" test ! -e "$MB_TMP/state/bad@example.com.json"
printf '{"refresh_token": "sekrit-%s", "n": [' "$now" |
	mb import bad@example.com
lacks "a broken file is not quoted" "$MB_TMP/err" "sekrit"

# --- an expiry that is not a time, or further ahead than any token lives:
# refused with the reason, nothing stored (1e30 was stored as INT64_MAX,
# and serve then answered nothing) ---
new_rt far
far() {	# NAME EXPIRY-JSON PATTERN [FORMAT-KEY]
	printf '{"refresh_token": "%s", "access_token": "far-at", "%s": %s}' \
		"$rt" "${4:-expires_at}" "$2" | mb import far@example.com
	check "$1: exit 65" test $? = 65
	contains "$1: says why" "$MB_TMP/err" "$3.*nothing was stored"
	check "$1: nothing stored" test ! -e "$MB_TMP/state/far@example.com.json"
}
far "10^30 seconds" 1000000000000000000000000000000 \
	'"expires_at" lies more than 366 days ahead'
far "1e30" 1e30 '"expires_at" lies more than 366 days ahead'
far "two years ahead" $((now + 2 * 366 * 86400)) 'more than 366 days ahead'
far "sasl-xoauth2, 10^30 as a string" '"1000000000000000000000"' \
	'"expiry" is not a time' expiry
far "negative" -5 '"expires_at" is not a time'
far "NaN" NaN '"expires_at" is not a time'
far "not a date" '"soon"' '"expires_at" is not a time'
printf '{"refresh_token": "%s", "access_token": "far-at", "expires_at": %s}' \
	"$rt" $((now + 3600)) | mb import far@example.com
ok $? "an hour ahead: imported"
check "... with its expiry" \
	test "$(st_get far@example.com expires_at)" = $((now + 3600))

no_secrets "no secret on stderr" "$MB_TMP/all-stderr"
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer token` against the mock OAuth2 provider over HTTPS: refresh,
# rotation persisted, Google-style no rotation, transient outages survived,
# permanent errors reported with advice, hostile bodies, modes, no secret
# on stderr.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
for a in g ms strict h c; do
	mb_conf_account "$MB_CONF" "$a@example.com"
done
# t: no reply within reply_timeout is a transient failure (no rotation)
mb_conf_account "$MB_CONF" t@example.com generic "reply_timeout = 3"
mb_conf_account "$MB_CONF" p@example.com google "client_secret = s"
mb_conf_account "$MB_CONF" m2@example.com microsoft "scope = https://mail.google.com/"
cnt() { mockctl count "users.$1@example.com.refresh"; }

# --- import and the first refresh (Google style: no rotation) ---
rt=$(mockctl account g@example.com --client-id cid --rotation none)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import g@example.com
ok $? "import reads the refresh token from stdin"
check "state file is 0600" test "$(stat -c %a "$MB_TMP/state/g@example.com.json")" = 600
check "state dir is 0700" test "$(stat -c %a "$MB_TMP/state")" = 700
check "imported refresh token stored" test "$(st_get g@example.com refresh_token)" = "$rt"
mb token g@example.com
ok $? "token: exit 0"
at1=$(cat "$MB_TMP/out")
remember_secret "$at1"
check "an access token printed" test -n "$at1"
check "it is the one in the state" test "$(st_get g@example.com access_token)" = "$at1"
check "one refresh request" test "$(cnt g)" = 1
mb token g@example.com
check "second call: same token from the state" test "$(cat "$MB_TMP/out")" = "$at1"
check "second call: no request" test "$(cnt g)" = 1
check "no rotation: old refresh token kept" test "$(st_get g@example.com refresh_token)" = "$rt"
time_left g@example.com 100
mb token g@example.com
ok $? "inside the margin: refreshed"
at2=$(cat "$MB_TMP/out")
remember_secret "$at2"
check "a new access token" test -n "$at2" -a "$at2" != "$at1"
check "two refresh requests" test "$(cnt g)" = 2
check "still the original refresh token" test "$(st_get g@example.com refresh_token)" = "$rt"

mb token g@example.com --format xoauth2
ok $? "--format xoauth2"
"$MB_PYTHON" -c 'import base64, sys
d = base64.b64decode(open(sys.argv[1]).read().strip())
sys.exit(0 if d == b"user=g@example.com\x01auth=Bearer " + sys.argv[2].encode() + b"\x01\x01" else 1)' "$MB_TMP/out" "$at2"
ok $? "xoauth2 initial response decodes to user/auth"

# --- Microsoft-style rotation is persisted ---
rt=$(mockctl account ms@example.com --client-id cid --rotation rotate --style microsoft)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import ms@example.com
mb token ms@example.com
ok $? "rotating provider: token"
remember_secret "$(cat "$MB_TMP/out")"
rt2=$(st_get ms@example.com refresh_token)
remember_secret "$rt2"
check "rotated refresh token persisted" test -n "$rt2" -a "$rt2" != "$rt"

# strict: the old refresh token dies on use, so a second refresh only
# works if the rotated one was saved and used.
rt=$(mockctl account strict@example.com --client-id cid --rotation strict --style microsoft)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import strict@example.com
mb token strict@example.com
ok $? "strict rotation: first refresh"
remember_secret "$(cat "$MB_TMP/out")"
time_left strict@example.com -5
mb token strict@example.com
ok $? "strict rotation: second refresh with the new refresh token"
remember_secret "$(cat "$MB_TMP/out")"
time_left strict@example.com -5
mb token strict@example.com
ok $? "strict rotation: third refresh"
remember_secret "$(cat "$MB_TMP/out")"
remember_secret "$(st_get strict@example.com refresh_token)"
check "strict: three refreshes" test "$(cnt strict)" = 3
check "strict: no invalid_grant" test "$(mockctl count errors.invalid_grant)" = 0

# --- transient outages: nothing lost ---
rt=$(mockctl account t@example.com --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import t@example.com
mb token t@example.com
tok=$(cat "$MB_TMP/out")
remember_secret "$tok"
time_left t@example.com 100
mockctl fault token 500 --count 3 > /dev/null
mb token t@example.com
ok $? "500s inside the margin: exit 0"
check "the still-valid token is served" test "$(cat "$MB_TMP/out")" = "$tok"
contains "warning says it is still valid" "$MB_TMP/err" "still valid"
check "last_error recorded" test -n "$(st_get t@example.com last_error)"
check "refresh token kept after 500s" test "$(st_get t@example.com refresh_token)" = "$rt"

time_left t@example.com -10
mockctl fault token 503 --count 3 > /dev/null
mb token t@example.com
ok "$([ $? = 75 ] && echo 0 || echo 1)" "expired token and 503s: exit 75"
contains "says temporary" "$MB_TMP/err" "temporarily"
check "refresh token kept after 503s" test "$(st_get t@example.com refresh_token)" = "$rt"
check "not marked as needing authorize" test "$(st_get t@example.com needs_authorize)" = false
mb token t@example.com
ok $? "provider back: token again"
remember_secret "$(cat "$MB_TMP/out")"

time_left t@example.com -10
mockctl fault token 429 --count 1 --retry-after 1 > /dev/null
mb token t@example.com
ok $? "429 with Retry-After: waited and retried"
remember_secret "$(cat "$MB_TMP/out")"
time_left t@example.com -10
mockctl fault token drop --count 2 > /dev/null
mb token t@example.com
ok $? "dropped connections: retried"
remember_secret "$(cat "$MB_TMP/out")"
time_left t@example.com -10
mockctl fault token slow --delay 4 --count 3 > /dev/null
mb token t@example.com
ok "$([ $? = 75 ] && echo 0 || echo 1)" "slower than reply_timeout: exit 75"
check "refresh token kept after timeouts" test "$(st_get t@example.com refresh_token)" = "$rt"
mockctl reset faults > /dev/null

# --- hostile bodies ---
rt=$(mockctl account h@example.com --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import h@example.com
mockctl fault token garbage --count 3 > /dev/null
mb token h@example.com
ok "$([ $? = 75 ] && echo 0 || echo 1)" "garbage body: exit 75"
contains "garbage: clear error" "$MB_TMP/err" "unusable body"
mockctl fault token huge --size 2000000 --count 3 > /dev/null
mb token h@example.com
ok "$([ $? = 75 ] && echo 0 || echo 1)" "huge body: exit 75"
contains "huge: clear error" "$MB_TMP/err" "larger than"
mockctl fault token empty --count 3 > /dev/null
mb token h@example.com
ok "$([ $? = 75 ] && echo 0 || echo 1)" "empty body: exit 75"
check "hostile bodies: refresh token kept" test "$(st_get h@example.com refresh_token)" = "$rt"
mockctl reset faults > /dev/null
mb token h@example.com
ok $? "after hostile bodies: works"
remember_secret "$(cat "$MB_TMP/out")"

# --- permanent failures ---
rt=$(mockctl account p@example.com --client-id cid --client-secret s --style google)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import p@example.com
mockctl revoke p@example.com --what refresh --reason revoked > /dev/null
mb token p@example.com
ok "$([ $? = 77 ] && echo 0 || echo 1)" "invalid_grant: exit 77"
contains "advice: Google Testing mode" "$MB_TMP/err" "Testing"
contains "advice: run authorize" "$MB_TMP/err" "mailbearer authorize"
check "state marked needs_authorize" test "$(st_get p@example.com needs_authorize)" = true
check "refresh token still kept" test "$(st_get p@example.com refresh_token)" = "$rt"
n=$(cnt p)
mb token p@example.com
ok "$([ $? = 77 ] && echo 0 || echo 1)" "second call: exit 77"
check "dead grant not retried" test "$(cnt p)" = "$n"
mb status p@example.com
ok "$([ $? = 77 ] && echo 0 || echo 1)" "status: exit 77"
contains "status shows the reason" "$MB_TMP/out" "NEEDS ATTENTION"
cat "$MB_TMP/out" >> "$MB_TMP/all-stderr"
printf '%s\n' "$rt" | mb import p@example.com
check "import clears the flag" test "$(st_get p@example.com needs_authorize)" = false

rt=$(mockctl account m2@example.com --client-id cid --style microsoft)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import m2@example.com
mockctl expire m2@example.com --what refresh > /dev/null
mb token m2@example.com
ok "$([ $? = 77 ] && echo 0 || echo 1)" "AADSTS700082: exit 77"
contains "advice: 90 days" "$MB_TMP/err" "90 days"

rt=$(mockctl account c@example.com --client-id other-client --style microsoft)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import c@example.com
mb token c@example.com
ok "$([ $? = 77 ] && echo 0 || echo 1)" "wrong client id: exit 77"
check "client problem recorded" test "$(st_get c@example.com client_problem)" = true
n=$(mockctl count endpoints.token)
mb token c@example.com
check "client problems are retried (fix is in the config)" test "$(mockctl count endpoints.token)" -gt "$n"

# --- local problems ---
mb token nobody@example.com
ok "$([ $? = 67 ] && echo 0 || echo 1)" "unknown account: exit 67"
mb token
ok "$([ $? = 64 ] && echo 0 || echo 1)" "usage: exit 64"
chmod 644 "$MB_TMP/state/g@example.com.json"
mb token g@example.com
ok "$([ $? = 78 ] && echo 0 || echo 1)" "0644 state file: exit 78"
contains "says chmod 600" "$MB_TMP/err" "chmod 600"
chmod 600 "$MB_TMP/state/g@example.com.json"
printf 'garbage' > "$MB_TMP/state/h@example.com.json"
mb token h@example.com
ok "$([ $? = 77 ] && echo 0 || echo 1)" "corrupt state: exit 77"
contains "corrupt state: reported" "$MB_TMP/err" "corrupt"
ls "$MB_TMP/state/h@example.com.json.corrupt-"* > /dev/null 2>&1
ok $? "corrupt state kept aside"
printf 'not a token\n' | mb import h@example.com
ok "$([ $? = 65 ] && echo 0 || echo 1)" "import refuses a non-token: exit 65"

MB_CONF_SAVE=$MB_CONF
MB_CONF=$MB_TMP/http.conf
cat > "$MB_CONF" <<EOC
[x]
provider = generic
token_endpoint = http://127.0.0.1:$MB_PROVIDER_PORT/token
client_id = cid
EOC
mb token x
ok "$([ $? = 78 ] && echo 0 || echo 1)" "http:// endpoint: exit 78"
contains "http:// refused with a clear message" "$MB_TMP/err" "must be an https:// URL"

# An unreadable configuration (a user other than its owner): a clear error
# naming the file and the cause, exit 78.  Needs root to switch users.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null &&
	as_nobody "$MB_HELPER" version > /dev/null 2>&1; then
	chmod 711 "$MB_TMP"
	chmod 600 "$MB_CONF"
	as_nobody "$MB_HELPER" --config "$MB_CONF" token x > /dev/null \
		2> "$MB_TMP/err"
	ok "$([ $? = 78 ] && echo 0 || echo 1)" "unreadable config: exit 78"
	contains "unreadable config: names the file and the cause" \
		"$MB_TMP/err" "$MB_CONF: cannot open the configuration: Permission denied"
	chmod 700 "$MB_TMP"
else
	skip "unreadable config (needs root, setpriv, a build nobody can run)"
	skip "unreadable config message"
fi
MB_CONF=$MB_CONF_SAVE

# --- no secret ever on stderr (or in status output) ---
no_secrets "no token in any stderr output" "$MB_TMP/all-stderr"
check "state files stay 0600" test -z "$(find "$MB_TMP/state" -name '*.json' ! -perm 600)"
done_testing

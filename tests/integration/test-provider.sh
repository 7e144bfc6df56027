#!/bin/sh
# SPDX-License-Identifier: MIT
# The mock OAuth2 provider itself (tests/fixtures/mock-provider): the test CA,
# introspection (RFC 7662), the refresh grant (RFC 6749 section 6) with the
# three rotation modes and both error styles, fault injection, counters,
# that tokens are not logged, and a clean stop on SIGTERM.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
need python3 openssl

start_ca || bail_out "tests/fixtures/ca.sh failed"

# --- the CA ---------------------------------------------------------------
mode() { stat -c %a "$1"; }
check "CA directory is 0700" test "$(mode "$MB_CA_DIR")" = 700
check "CA key is 0600" test "$(mode "$MB_CA_DIR/ca.key")" = 600
check "server key is 0600" test "$(mode "$MB_CA_DIR/server.key")" = 600
openssl x509 -in "$MB_CA_DIR/server.pem" -noout -ext subjectAltName \
	> "$MB_TMP/san" 2>&1
contains "server cert names 127.0.0.1" "$MB_TMP/san" 'IP Address:127\.0\.0\.1'
contains "server cert names ::1" "$MB_TMP/san" 'IP Address:0:0:0:0:0:0:0:1'
contains "server cert names localhost" "$MB_TMP/san" 'DNS:localhost'
openssl verify -CAfile "$MB_CA" "$MB_CA_DIR/server.pem" > "$MB_TMP/verify" 2>&1
ok $? "server cert verifies against the CA"

start_provider || { echo "Bail out! mock provider did not start"; exit 1; }
check "provider answers over HTTPS with the test CA" mockctl health

# raw NAME=VALUE...: POST /token, status on line 1, JSON body on line 2.
token() { mockctl raw POST /token "$@" > "$MB_TMP/out"; }
status() { sed -n 1p "$MB_TMP/out"; }
# field KEY: a top-level field of the JSON body in $MB_TMP/out.
field() {
	sed -n '2,$p' "$MB_TMP/out" | "$MB_PYTHON" -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else json.dumps(v) if not isinstance(v, str) else v)' "$1"
}
introspect() { mockctl raw POST /introspect "token=$1" > "$MB_TMP/out"; }

# --- introspection ----------------------------------------------------------
at=$(mockctl issue alice@example.com --ttl 600)
introspect "$at"
check "introspect: issued token is active" test "$(field active)" = true
check "introspect: username is the user" \
	test "$(field username)" = alice@example.com
check "introspect: exp in the future" \
	test "$(field exp)" -gt "$(date +%s)"
introspect "not-a-token"
check "introspect: unknown token inactive" test "$(field active)" = false
check "revoke access token changes 1" \
	test "$(mockctl revoke alice@example.com --what access)" = 1
introspect "$at"
check "introspect: revoked token inactive" test "$(field active)" = false
at2=$(mockctl issue alice@example.com --ttl 600)
mockctl expire alice@example.com --what access > /dev/null
introspect "$at2"
check "introspect: expired token inactive" test "$(field active)" = false
mockctl raw POST /introspect "token=$at" --content-type text/plain \
	> "$MB_TMP/out"
check "introspect: wrong content type is a 400" test "$(status)" = 400

# --- refresh grant: rotation none (Google) --------------------------------
rt=$(mockctl account g@example.com --client-id gid --client-secret gsec)
token grant_type=refresh_token client_id=gid client_secret=gsec \
	refresh_token="$rt"
check "none: refresh succeeds" test "$(status)" = 200
check "none: token_type Bearer" test "$(field token_type)" = Bearer
check "none: expires_in 3600" test "$(field expires_in)" = 3600
check "none: scope is Gmail's" test "$(field scope)" = https://mail.google.com/
check "none: no new refresh token" test -z "$(field refresh_token)"
new_at=$(field access_token)
introspect "$new_at"
check "none: the new access token is active" test "$(field active)" = true
token grant_type=refresh_token client_id=gid client_secret=gsec \
	refresh_token="$rt"
check "none: same refresh token works again" test "$(status)" = 200
mockctl raw POST /token grant_type=refresh_token refresh_token="$rt" \
	--basic gid:gsec > "$MB_TMP/out"
check "none: HTTP Basic client authentication accepted" test "$(status)" = 200
token grant_type=refresh_token client_id=gid client_secret=wrong \
	refresh_token="$rt"
check "wrong secret: 401" test "$(status)" = 401
check "wrong secret: invalid_client" test "$(field error)" = invalid_client
token grant_type=refresh_token client_id=gid refresh_token="$rt"
check "Google, no secret: invalid_request" test "$(field error)" = invalid_request
token grant_type=refresh_token client_id=gid client_secret=gsec \
	refresh_token="$rt" scope="https://mail.google.com/ other"
check "wider scope: invalid_scope" test "$(field error)" = invalid_scope
mockctl revoke g@example.com --what refresh > /dev/null
token grant_type=refresh_token client_id=gid client_secret=gsec \
	refresh_token="$rt"
check "revoked: 400" test "$(status)" = 400
check "revoked: invalid_grant" test "$(field error)" = invalid_grant
check "revoked: Google's description" \
	test "$(field error_description)" = "Token has been expired or revoked."
token grant_type=password username=x password=y
check "unsupported grant_type" test "$(field error)" = unsupported_grant_type

# --- rotate (Microsoft) -------------------------------------------------------
rt=$(mockctl account m@example.com --client-id mid --rotation rotate \
	--style microsoft --access-ttl 4000)
token grant_type=refresh_token client_id=mid refresh_token="$rt"
rt2=$(field refresh_token)
check "rotate: new refresh token" test -n "$rt2" -a "$rt2" != "$rt"
check "rotate: ext_expires_in" test "$(field ext_expires_in)" = 4000
token grant_type=refresh_token client_id=mid refresh_token="$rt"
check "rotate: old refresh token still valid" test "$(status)" = 200
token grant_type=refresh_token client_id=mid refresh_token="$rt2"
check "rotate: new refresh token valid" test "$(status)" = 200
token grant_type=refresh_token client_id=mid client_secret=x \
	refresh_token="$rt2"
contains "public client with a secret: AADSTS700025" "$MB_TMP/out" \
	'"AADSTS700025: '
mockctl revoke m@example.com --what refresh --reason expired > /dev/null
token grant_type=refresh_token client_id=mid refresh_token="$rt2"
check "microsoft expired: invalid_grant" test "$(field error)" = invalid_grant
check "microsoft expired: error_codes [700082]" \
	test "$(field error_codes)" = "[700082]"
contains "microsoft expired: AADSTS700082 description" "$MB_TMP/out" \
	'"error_description": "AADSTS700082: .*Trace ID: .*Correlation ID: '
check "microsoft: trace_id present" test -n "$(field trace_id)"

# --- strict -----------------------------------------------------------------
rt=$(mockctl account s@example.com --client-id sid --rotation strict)
token grant_type=refresh_token client_id=sid refresh_token="$rt"
rt2=$(field refresh_token)
check "strict: new refresh token" test -n "$rt2" -a "$rt2" != "$rt"
token grant_type=refresh_token client_id=sid refresh_token="$rt"
check "strict: old refresh token dies on use" \
	test "$(field error)" = invalid_grant
token grant_type=refresh_token client_id=sid refresh_token="$rt2"
check "strict: new one works" test "$(status)" = 200

# --- faults -----------------------------------------------------------------
rt=$(mockctl account f@example.com --client-id fid)
ok_req() { token grant_type=refresh_token client_id=fid refresh_token="$rt"; }
mockctl fault token 500 --count 2
ok_req; s1=$(status); ok_req; s2=$(status); ok_req; s3=$(status)
check "fault 500 x2: two 500s then 200" test "$s1 $s2 $s3" = "500 500 200"
mockctl fault token 429 --retry-after 7
mockctl raw POST /token grant_type=refresh_token client_id=fid \
	refresh_token="$rt" --headers > "$MB_TMP/out"
check "fault 429: status" test "$(status)" = 429
contains "fault 429: Retry-After" "$MB_TMP/out" '^Retry-After: 7'
mockctl fault token drop
if ok_req 2>/dev/null; then ok 1 "fault drop: connection fails"; else
	ok 0 "fault drop: connection fails"; fi
mockctl fault token garbage
ok_req
if field error > /dev/null 2>&1; then ok 1 "fault garbage: body not JSON"
else ok 0 "fault garbage: body not JSON"; fi
mockctl fault token content_type
mockctl raw POST /token --headers > "$MB_TMP/out"
contains "fault content_type: text/html" "$MB_TMP/out" \
	'^Content-Type: text/html'
mockctl fault token huge --size 300000
ok_req
check "fault huge: big body" test "$(wc -c < "$MB_TMP/out")" -ge 300000
mockctl fault token invalid_grant
ok_req
check "fault invalid_grant" test "$(field error)" = invalid_grant
mockctl fault introspect 503
introspect "$at"
check "fault on introspect: 503" test "$(status)" = 503
mockctl fault token slow --delay 0.3
ok_req
check "fault slow: then a normal answer" test "$(status)" = 200
mockctl fault token truncated
if ok_req 2>/dev/null; then ok 1 "fault truncated: client sees an error"
else ok 0 "fault truncated: client sees an error"; fi
if mockctl fault token nonsense 2>/dev/null; then
	ok 1 "unknown fault kind refused"; else ok 0 "unknown fault kind refused"
fi

# --- counters ---------------------------------------------------------------
mockctl reset counters
rt=$(mockctl account c@example.com --client-id cid)
for i in 1 2 3; do
	token grant_type=refresh_token client_id=cid refresh_token="$rt"
done
a=$(mockctl issue c@example.com)
introspect "$a"; introspect "$a"
check "counter: 3 refreshes for the user" \
	test "$(mockctl count users.c@example.com.refresh)" = 3
check "counter: 2 introspections for the user" \
	test "$(mockctl count users.c@example.com.introspect)" = 2
check "counter: token endpoint 3" test "$(mockctl count endpoints.token)" = 3
mockctl reset counters
check "reset zeroes counters" test "$(mockctl count endpoints.token)" = 0

# --- no secrets in the log, clean stop ---------------------------------------
lacks "full tokens never logged" "$MB_PROVIDER_LOG" "$a|$rt|$at"
kill -TERM "$MB_PROVIDER_PID"
# The provider logs "stopped" only at the end of its orderly shutdown.
check "stops cleanly on SIGTERM" wait_for 10 grep -q ' stopped$' \
	"$MB_PROVIDER_LOG"
stop_pid "$MB_PROVIDER_PID" 5

done_testing

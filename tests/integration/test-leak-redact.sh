#!/bin/sh
# SPDX-License-Identifier: MIT
# A provider that echoes the form body it received (URL-encoded, or as
# JSON text) in its error_description: no form of the refresh token or the
# client secret may reach mailbearer's stderr, the state files, `status`,
# or what `serve` answers and logs.  Also: "invalid_grant" inside an HTTP
# 5xx is transient (the account is not marked as needing authorize).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup

# Secrets with the characters that encodings change: '/', '+', '='.
rt='1//0Ab+cd/ef=gh~ij.kl_mn-op/qr+st=uv'
cs='GOCSPX-s3cr/t+v=x~y_z'
mockctl account leak@example.com --client-id cid --client-secret "$cs" \
	--refresh-token "$rt" > /dev/null
printf '%s\n' "$cs" > "$MB_TMP/cs"
chmod 600 "$MB_TMP/cs"
for a in e400 e503 ejson; do
	mb_conf_account "$MB_CONF" "$a@example.com" generic \
		"client_secret_file = $MB_TMP/cs"
	printf '%s\n' "$rt" | mb import "$a@example.com"
done

# Every form the two secrets can take in a provider's text.
"$MB_PYTHON" - "$rt" "$cs" > "$MB_TMP/forms" <<'EOF'
import json, re, sys, urllib.parse
for s in sys.argv[1:]:
    enc = urllib.parse.quote(s, safe="")
    forms = [s, enc, re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), enc),
             urllib.parse.quote_plus(s, safe=""),
             json.dumps(s)[1:-1].replace("/", "\\/"),
             urllib.parse.quote(enc, safe="")]
    # The first half too: a truncated echo.
    forms += [f[:len(f) // 2] for f in forms]
    for f in sorted(set(forms)):
        print(f)
EOF
check "forms of the secrets listed" test "$(wc -l < "$MB_TMP/forms")" -ge 10

# no_forms NAME FILE: not one form of a secret in FILE.
no_forms() {
	mb_found=$(grep -F -f "$MB_TMP/forms" -- "$2" | head -n 3)
	if [ -z "$mb_found" ]; then ok 0 "$1"; else
		ok 1 "$1"; printf '%s\n' "$mb_found" | diag_stdin; fi
}

# errors ACCOUNT: the state file's text fields other than the tokens
# themselves (last_error, reason...) in $MB_TMP/fields.
errors() {
	"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k, v in sorted(d.items()):
    if k not in ("refresh_token", "access_token") and isinstance(v, str):
        print("%s: %s" % (k, v))' "$MB_TMP/state/$1.json" > "$MB_TMP/fields"
}

# --- 400 with the URL-encoded form body in error_description ---
mockctl fault token echo --status 400 --error invalid_request
mb -v token e400@example.com
check "echo 400: token fails" test "$mb_rc" != 0
contains "echo 400: the provider's text is reported" "$MB_TMP/err" \
	'received grant_type=refresh_token&refresh_token=\*+'
no_forms "echo 400: no secret on stderr" "$MB_TMP/err"
errors e400@example.com
no_forms "echo 400: no secret in the state file's errors" "$MB_TMP/fields"
check "echo 400: the error is recorded" \
	test -n "$(st_get e400@example.com last_error)"

# --- 503 "invalid_grant" echoing the body: transient, nothing lost ---
mockctl fault token echo --status 503 --error invalid_grant --count 3
mb -v token e503@example.com
check "echo 503: exit 75 (temporary failure)" test "$mb_rc" = 75
check "echo 503 invalid_grant: not marked needs-authorize" \
	test "$(st_get e503@example.com needs_authorize)" != true
check "echo 503: refresh token kept" \
	test "$(st_get e503@example.com refresh_token)" = "$rt"
contains "echo 503: the error is recorded" \
	"$MB_TMP/state/e503@example.com.json" 'received grant_type'
no_forms "echo 503: no secret on stderr" "$MB_TMP/err"
errors e503@example.com
no_forms "echo 503: no secret in the state file's errors" "$MB_TMP/fields"

# --- 400 invalid_grant echoing the fields as JSON text (\/ escapes) ---
mockctl fault token echo_json --status 400 --error invalid_grant
mb -v token ejson@example.com
check "echo_json: exit 77 (needs authorize)" test "$mb_rc" = 77
check "echo_json: marked needs-authorize" \
	test "$(st_get ejson@example.com needs_authorize)" = true
contains "echo_json: the reason quotes the provider" \
	"$MB_TMP/state/ejson@example.com.json" 'received'
no_forms "echo_json: no secret on stderr" "$MB_TMP/err"
errors ejson@example.com
no_forms "echo_json: no secret in the state file's errors" \
	"$MB_TMP/fields"

# --- status shows the errors, never the secrets ---
mb status
check "status runs" test -s "$MB_TMP/out"
contains "status shows the recorded error" "$MB_TMP/out" 'received'
no_forms "status: no secret" "$MB_TMP/out"

# --- serve: the ERR text a client (the plugin, which logs it) gets ---
sock=$MB_TMP/serve.sock
mockctl fault token echo --status 400 --error invalid_request --count 50
mockctl account leak2@example.com --client-id cid --client-secret "$cs" \
	--refresh-token "$rt" > /dev/null
mb_conf_account "$MB_CONF" "s@example.com" generic \
	"client_secret_file = $MB_TMP/cs"
printf '%s\n' "$rt" | mb import s@example.com
"$MB_HELPER" --config "$MB_CONF" -v serve --socket "$sock" --foreground \
	> /dev/null 2> "$MB_TMP/serve.err" &
serve_pid=$!
at_exit "stop_pid $serve_pid"
: > "$MB_TMP/answers"
n=0
while [ "$n" -lt 20 ]; do
	timeout 30 "$MB_PYTHON" "$top_srcdir/tests/fixtures/ipc-client.py" "$sock" \
		'MAILBEARER1 TOKEN s@example.com' >> "$MB_TMP/answers" \
		2>/dev/null
	grep -q '^MAILBEARER1 ERR' "$MB_TMP/answers" && break
	sleep 0.5
	n=$((n + 1))
done
contains "serve answers ERR" "$MB_TMP/answers" '^MAILBEARER1 ERR'
no_forms "serve: no secret in the answer" "$MB_TMP/answers"
stop_pid "$serve_pid"
no_forms "serve: no secret in its log" "$MB_TMP/serve.err"

no_forms "no secret in any stderr output" "$MB_TMP/all-stderr"
for a in e400 e503 ejson s; do
	errors "$a@example.com"
	no_forms "no secret in the errors of $a at the end" "$MB_TMP/fields"
done
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer status --json` against every account state (ok, failing,
# needs authorize, client problem, no tokens, corrupt state), validated by
# the schema of doc/status-json.md; the human form's summary lines; the
# probe of serve's socket; no secret in either form.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
# The probe of serve's socket asks a private path that nothing listens
# on, never the host's (/run/mailbearer/socket or a per-user one of
# $XDG_RUNTIME_DIR, where an installed mailbearer's serve may run).
MAILBEARER_SOCKET=$MB_TMP/no-serve.sock
export MAILBEARER_SOCKET
unset XDG_RUNTIME_DIR
for a in ok fail auth none auth2 auth3; do
	mb_conf_account "$MB_CONF" "$a@example.com"
done
mb_conf_account "$MB_CONF" client@example.com google
mb_conf_account "$MB_CONF" bad@example.com
for a in ok fail auth client bad auth2 auth3; do
	rt=$(mockctl account $a@example.com --client-id cid)
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import $a@example.com
done
mb token ok@example.com
remember_secret "$(cat "$MB_TMP/out")"
mockctl fault token 503 --count 3 > /dev/null
mb token fail@example.com
st_set auth@example.com needs_authorize True
st_set auth@example.com reason '"the provider refused the refresh token"'
st_set client@example.com needs_authorize True
st_set client@example.com client_problem True
printf '{"version": 1, "refresh_token": 5}' > "$MB_TMP/state/bad@example.com.json"
chmod 600 "$MB_TMP/state/bad@example.com.json"

# The schema: every key, its type, the allowed states.
cat > "$MB_TMP/check.py" <<'EOP'
import json, re, sys
iso = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
d = json.load(open(sys.argv[1]))
S, I, B, T = (str, type(None)), (int, type(None)), bool, "time"
top = {"version": int, "generated": T, "config": str, "serve": dict,
       "accounts": list, "attention": B, "exit_status": int,
       "cluster": (dict, type(None))}
acct = {"name": str, "provider": str, "flow": str, "user": str,
        "token_endpoint": str, "state_file": str, "state": str,
        "attention": B, "reason": S, "refresh_token": B,
        "refresh_token_since": T, "access_token": B, "access_token_expires_at": T,
        "access_token_expires_in": I, "access_token_usable": B,
        "access_token_rejected": B, "scope": S, "last_refresh": T,
        "last_error": S, "last_forced_refresh": T, "updated": T,
        "refresh_unanswered_at": T, "refreshed_by": S, "lock_holder": S}
states = {"ok", "failing", "needs_authorize", "client_problem",
          "no_refresh_token", "missing", "corrupt", "error"}
def chk(obj, spec, where):
    if set(obj) != set(spec):
        sys.exit("%s: keys %s" % (where, sorted(set(obj) ^ set(spec))))
    for k, t in spec.items():
        v = obj[k]
        if t == T:
            if v is not None and not (isinstance(v, str) and iso.match(v)):
                sys.exit("%s.%s: not an ISO 8601 time: %r" % (where, k, v))
        elif not isinstance(v, t) or (t is int and isinstance(v, bool)):
            sys.exit("%s.%s: wrong type %r" % (where, k, v))
chk(d, top, "top")
chk(d["serve"], {"socket": str, "answering": B, "error": S}, "serve")
if d["version"] != 1:
    sys.exit("version")
for a in d["accounts"]:
    chk(a, acct, a.get("name", "?"))
    if a["flow"] not in ("refresh_token", "client_credentials"):
        sys.exit("flow %r" % a["flow"])
    if a["state"] not in states:
        sys.exit("state %r" % a["state"])
    if a["attention"] != (a["state"] != "ok"):
        sys.exit("attention of " + a["name"])
    if a["attention"] and not a["reason"]:
        sys.exit("no reason for " + a["name"])
for a in d["accounts"]:
    print(a["name"], a["state"])
EOP

mb status --json
rc=$mb_rc
"$MB_PYTHON" "$MB_TMP/check.py" "$MB_TMP/out" > "$MB_TMP/states" 2> "$MB_TMP/perr"
ok $? "status --json: valid JSON following the schema"
diag_stdin < "$MB_TMP/perr"
for s in "ok@example.com ok" "fail@example.com failing" \
	"auth@example.com needs_authorize" \
	"client@example.com client_problem" "none@example.com missing" \
	"bad@example.com corrupt"; do
	contains "state: $s" "$MB_TMP/states" "^$s\$"
done
check "exit status 77: accounts need attention" test "$rc" = 77
contains "exit_status in the JSON" "$MB_TMP/out" '"exit_status": 77'
contains "ok: access token expiry as ISO 8601" "$MB_TMP/out" \
	'"access_token_expires_at": "[0-9]{4}-[0-9]{2}-[0-9]{2}T'
contains "failing: the last error quoted" "$MB_TMP/out" \
	'"last_error": ".*503'
contains "serve: not answering" "$MB_TMP/out" '"answering": false'
lacks "no raw epoch: no 10-digit number" "$MB_TMP/out" ': [0-9]{10}'
cp "$MB_TMP/out" "$MB_TMP/json-all"

mb status ok@example.com --json
check "one ok account: exit 0" test "$mb_rc" = 0
"$MB_PYTHON" "$MB_TMP/check.py" "$MB_TMP/out" > "$MB_TMP/states" 2> "$MB_TMP/perr"
ok $? "one account: valid"
check "one account: only it" test "$(cat "$MB_TMP/states")" = \
	"ok@example.com ok"
contains "attention false" "$MB_TMP/out" '^  "attention": false'
mb status fail@example.com --json
check "failing: exit 75" test "$mb_rc" = 75
mb status nosuch@example.com --json
check "unknown account: exit 67" test "$mb_rc" = 67

# --- the human form: one summary line per account ---
mb status
check "human form: exit 77" test "$mb_rc" = 77
contains "summary line: ok" "$MB_TMP/out" \
	'^ok@example.com: generic, refresh_token: ok; access token until [0-9]{4}-'
contains "... with the refresh token's age" "$MB_TMP/out" \
	'^ok@example.com: .*; refresh token 0 days old; last used [0-9]{4}-'
contains "... and when it was obtained" "$MB_TMP/out" \
	'^  refresh token: present, obtained [0-9]{4}-[0-9][0-9]-[0-9][0-9]T'
cp "$MB_TMP/out" "$MB_TMP/human.out"
mb status ok@example.com --json
"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["accounts"][0]["refresh_token_since"] else 1)' \
	"$MB_TMP/out"
ok $? "--json: refresh_token_since of an imported token"
cp "$MB_TMP/human.out" "$MB_TMP/out"
contains "summary line: needs attention" "$MB_TMP/out" \
	'^auth@example.com: generic, refresh_token: NEEDS ATTENTION \(needs_authorize\)'
contains "serve line" "$MB_TMP/out" \
	"^serve: not answering on $MB_TMP/no-serve.sock"
# auth2 and auth3 share a long reason: printed once, then referred to
long='("the provider refused the refresh token (expired or revoked):"
	" Google expires them after 7 days while the consent screen is in"
	" Testing mode")'
for a in auth2 auth3; do
	st_set $a@example.com needs_authorize True
	st_set $a@example.com reason "$long"
done
mb status
check "long advice printed once" \
	test "$(grep -c 'consent screen is in Testing mode' "$MB_TMP/out")" = 1
contains "... the other account refers to it" "$MB_TMP/out" \
	'^  status: NEEDS ATTENTION: the same as for \[auth2@example\.com\] above'
mb status --json
check "JSON: every account has its whole reason" \
	test "$(grep -c 'consent screen is in Testing mode' "$MB_TMP/out")" = 2
"$MB_PYTHON" -c 'import json, sys
acc = json.load(open(sys.argv[1]))["accounts"]
todo = [a for a in acc if a["state"] in ("missing", "no_refresh_token")]
bad = [a["name"] for a in todo if "mailbearer authorize" not in a["reason"]]
print("# %d accounts without tokens, without advice: %s" % (len(todo), bad))
sys.exit(0 if todo and not bad else 1)' "$MB_TMP/out"
ok $? "JSON: the reason of an account without tokens says what to run (as the text does)"
cat "$MB_TMP/out" "$MB_TMP/json-all" >> "$MB_TMP/all-stderr"

# --- an account never refreshed: no "last refresh succeeded" ---
conf=$MB_CONF
MB_CONF=$MB_TMP/fresh.conf
: > "$MB_CONF"
mb_conf_account "$MB_CONF" fresh@example.com
rt=$(mockctl account fresh@example.com --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import fresh@example.com
mb status fresh@example.com
check "imported, never refreshed: exit 0" test "$mb_rc" = 0
contains "... the summary says no refresh yet" "$MB_TMP/out" \
	'^fresh@example.com: generic, refresh_token: ok; .*; no refresh yet$'
lacks "... not that a refresh succeeded" "$MB_TMP/out" 'refresh succeeded'
mb token fresh@example.com
remember_secret "$(cat "$MB_TMP/out")"
mb status fresh@example.com
contains "after a refresh: last refresh succeeded" "$MB_TMP/out" \
	'^fresh@example.com: .*; last refresh succeeded$'
MB_CONF=$conf

# --- a serve answering on the socket ---
sock=$MB_TMP/s.sock
"$MB_HELPER" --config "$MB_CONF" serve --foreground --socket "$sock" \
	2> "$MB_TMP/serve.err" &
spid=$!
at_exit "kill $spid 2>/dev/null"
wait_for 10 test -S "$sock"
mb status --json --socket "$sock"
contains "serve answering (--socket)" "$MB_TMP/out" '"answering": true'
MAILBEARER_SOCKET=$sock mb status ok@example.com
contains "serve answering (\$MAILBEARER_SOCKET)" "$MB_TMP/out" \
	"^serve: answering on $sock\$"
kill $spid
wait $spid 2>/dev/null
mb status --json --socket "$sock"
contains "serve stopped: not answering" "$MB_TMP/out" '"answering": false'

no_secrets "no secret in any output" "$MB_TMP/all-stderr"
done_testing

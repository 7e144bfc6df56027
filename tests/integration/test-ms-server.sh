#!/bin/sh
# SPDX-License-Identifier: MIT
# A Microsoft-style server (tests/fixtures/fake-ms-server.py: no error challenge,
# IMAP "NO AUTHENTICATE failed.", SMTP "535 5.7.3 Authentication
# unsuccessful"): what the administrator sees.  imtest and smtptest load
# our plugin, which asks `mailbearer serve` for the token.
#   - accepted token: authenticated (the fake can say yes: the checks
#     below can fail);
#   - refused token: the client shows Microsoft's answer; the plugin's log
#     (through syslog) and serve's log are recorded and checked for what
#     they say, and for no token.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
built "$MB_PLUGIN_SO"
# (an ASan-built plugin cannot be loaded into the uninstrumented client)
[ "${MB_SANITIZE:-}" != 1 ] ||
	skip_all "ASan build: imtest and smtptest cannot load the ASan-built plugin"
[ -x "$MB_CYRUS_BIN/imtest" ] || skip_all "no imtest (cyrus-clients)"
[ -x "$MB_CYRUS_BIN/smtptest" ] || skip_all "no smtptest (cyrus-clients)"
built "$MB_SYSLOG_SHIM"
need setsid
token_setup

user=alice@contoso.example
mb_account "$user" --style microsoft
mb_diag_file "$MB_TMP/err"

check "serve started" start_serve
has_token() { grep -qs access_token "$MB_TMP/state/$user.json"; }
check "serve has a token" wait_for 20 has_token

ACCEPT=$MB_TMP/accept
for p in imap smtp; do
	"$MB_PYTHON" "$top_srcdir/tests/fixtures/fake-ms-server.py" "$p" \
		"$MB_TMP/$p.port" "$MB_TMP/$p.log" "$ACCEPT" \
		> "$MB_TMP/$p.err" 2>&1 &
	eval "${p}_pid=\$!"
	at_exit "stop_pid \$${p}_pid"
	check "fake Microsoft $p server started" \
		wait_for 10 test -s "$MB_TMP/$p.port"
done
IMAP_PORT=$(cat "$MB_TMP/imap.port")
SMTP_PORT=$(cat "$MB_TMP/smtp.port")

# --- the token is accepted --------------------------------------------------
st_get "$user" access_token > "$ACCEPT"
remember_secret "$(cat "$ACCEPT")"
sasl_client "$MB_TMP/i1" imtest "$IMAP_PORT" XOAUTH2 "$user" "" 'a2 LOGOUT'
contains "IMAP, token accepted: authenticated" "$MB_TMP/i1" '^Authenticated\.'
sasl_client "$MB_TMP/s1" smtptest "$SMTP_PORT" XOAUTH2 "$user" "" 'QUIT'
contains "SMTP, token accepted: 235" "$MB_TMP/s1" '235 2\.7\.0'

# --- the token is refused, Microsoft's way -----------------------------------
rm -f "$ACCEPT"
r_before=$(mockctl count "users.$user.refresh")
serve_lines=$(wc -l < "$MB_TMP/serve.log")
sasl_client "$MB_TMP/i2" imtest "$IMAP_PORT" XOAUTH2 "$user" "" 'a2 LOGOUT'
lacks "IMAP, refused: not authenticated" "$MB_TMP/i2" '^Authenticated\.'
contains "IMAP, refused: no challenge, the tagged NO at once" "$MB_TMP/i2" \
	'NO AUTHENTICATE failed\.'
lacks "IMAP, refused: no challenge was sent" "$MB_TMP/i2" '^S: \+ [A-Za-z0-9]'
sasl_client "$MB_TMP/s2" smtptest "$SMTP_PORT" XOAUTH2 "$user" "" 'QUIT'
contains "SMTP, refused: 535 5.7.3 shown" "$MB_TMP/s2" \
	'535 5\.7\.3 Authentication unsuccessful'
lacks "SMTP, refused: not authenticated" "$MB_TMP/s2" '^235 '
for f in i2 s2; do
	diag "--- what the plugin logged ($f):"
	sed -n '1,20p' "$MB_TMP/$f.syslog" | diag_stdin
done
diag "--- serve's log during the refusals:"
tail -n "+$((serve_lines + 1))" "$MB_TMP/serve.log" | diag_stdin
tail -n "+$((serve_lines + 1))" "$MB_TMP/serve.log" > "$MB_TMP/serve.since"
# What they say: Microsoft sends no challenge, so the plugin never sees
# the refusal (libsasl2 does not call it again) and cannot tell serve;
# serve does not refresh.  The administrator's clue is the server's answer
# in the client's log; the defence is the proactive refresh (margin
# 600 s) and `mailbearer doctor --login`.
contains "the server saw our login name and a token (IMAP)" \
	"$MB_TMP/imap.log" "user=$user token=present result=refused"
contains "the server saw our login name and a token (SMTP)" \
	"$MB_TMP/smtp.log" "user=$user token=present result=refused"
for f in i2 s2; do
	lacks "$f: the plugin claims no rejection it did not see" \
		"$MB_TMP/$f.syslog" 'rejected'
	lacks "$f: the plugin logged no error of its own" \
		"$MB_TMP/$f.syslog" '<errdetail> (XOAUTH2|OAUTHBEARER):'
done
lacks "serve was told of no rejection (none could be seen)" \
	"$MB_TMP/serve.since" 'rejected'
check "serve made no refresh for the refusals" \
	test "$(mockctl count "users.$user.refresh")" = "$r_before"

no_secrets "no token in any transcript or log" \
	"$MB_TMP"/i[0-9] "$MB_TMP"/s[0-9] "$MB_TMP"/*.syslog \
	"$MB_TMP/serve.log" "$MB_TMP/imap.log" "$MB_TMP/smtp.log"
done_testing

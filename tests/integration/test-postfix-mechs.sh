#!/bin/sh
# SPDX-License-Identifier: MIT
# Installing the plugin changes no working password login (doc/plugin.md,
# "A password is not a token").  A private Postfix relays with a password
# through a server that offers, inside TLS, AUTH PLAIN LOGIN XOAUTH2
# OAUTHBEARER, like smtp.gmail.com (tests/fixtures/postfix/auth-smtpd.py,
# which records the mechanism of each AUTH, never a credential):
#   a Gmail-style app password (16 letters, a valid b64token), no
#     smtp_sasl_mechanism_filter: libsasl2 ranks XOAUTH2 first; the plugin
#     fails inside sasl_client_start, the server sees no AUTH at all, the
#     message is deferred and the maillog has the one line that names
#     smtp_sasl_mechanism_filter, without the password;
#   smtp_sasl_mechanism_filter = plain, login: relayed with PLAIN/LOGIN;
#   no global filter, -o smtp_sasl_mechanism_filter=plain,login on the
#     smtp transport in master.cf: relayed with PLAIN/LOGIN;
#   one destination routed (transport_maps) to a copy of smtp with the
#     filter: relayed with PLAIN/LOGIN;
#   a token-shaped password, no filter: still XOAUTH2.
# Fails on a plugin that takes every password for a token: the server
# then sees AUTH XOAUTH2 with the password in it.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/postfix.sh"

pf_need postsuper
start_ca || bail_out "tests/fixtures/ca.sh failed"

user=dave@example.com
pass=abcdefghijklmnop
tok=ya29.Mechs-$(openssl rand -hex 24)
rec=$MB_TMP/auth.record
pfile=$MB_TMP/auth.port
MB_SINK_DIR=$MB_TMP/dump
mkdir -p "$MB_SINK_DIR"
export MB_SINK_DIR
printf '%s\n' "$pass" > "$MB_TMP/auth.password"
printf '%s\n' "$tok" > "$MB_TMP/auth.token"
"$MB_PYTHON" "$top_srcdir/tests/fixtures/postfix/auth-smtpd.py" \
	--record "$rec" --port-file "$pfile" --dump-dir "$MB_SINK_DIR" \
	--cert "$MB_CA_DIR/server.pem" --key "$MB_CA_DIR/server.key" \
	--password-file "$MB_TMP/auth.password" \
	--token-file "$MB_TMP/auth.token" > "$MB_TMP/auth.log" 2>&1 &
auth_pid=$!
at_exit "stop_pid $auth_pid"
if ! wait_for 10 test -s "$pfile"; then
	mb_diag_file "$MB_TMP/auth.log"
	bail_out "auth-smtpd.py did not start"
fi
PF_RELAY_PORT=$(cat "$pfile")

pf_passwd "$user" "$pass"
start_postfix || bail_out "postfix did not start"
pf_set smtp_sasl_mechanism_filter=
check "no smtp_sasl_mechanism_filter" pf_reload
check "  (postconf says so)" \
	[ -z "$(postconf -c "$MB_PF_CONF" -h smtp_sasl_mechanism_filter)" ]

# auths: the record's AUTH lines since the last `: > $rec`.
auths() { grep '^AUTH ' "$rec" | tr '\n' ';'; }

# --- a password, no filter: refused before anything is sent ---------------
: > "$rec"
pf_mark
pf_send p1
if pf_wait_status p1 deferred 60; then ok 0 "password, no filter: deferred"
else ok 1 "password, no filter: deferred"; mb_diag_file "$MB_PF_LOG"; fi
check "password, no filter: the server saw no AUTH ($(auths))" \
	[ -z "$(auths)" ]
pf_log_since > "$MB_TMP/p1.since"
contains "password, no filter: the line in the maillog names the cause" \
	"$MB_TMP/p1.since" "smtp\\[[0-9]+\\]: warning: SASL authentication \
problem: XOAUTH2: the password for $user is not an OAuth2 access token \
\\(not an RFC 6750 b64token of at least 32 characters\\), so XOAUTH2 was \
not used and nothing was sent; to log in with the password, set \
smtp_sasl_mechanism_filter = plain, login in Postfix's main.cf, or for \
this destination only -o smtp_sasl_mechanism_filter=plain,login on its \
transport in master.cf, then postfix reload"
check "password, no filter: the line once per attempt, on one line" \
	[ "$(grep -c 'is not an OAuth2 access token' "$MB_TMP/p1.since")" \
	= "$(grep -c 'SASL authentication failed; cannot authenticate' \
	"$MB_TMP/p1.since")" ]
pf_log_of p1 > "$MB_TMP/p1.log"
nomech='status=deferred \(SASL authentication failed; cannot authenticate '
nomech="${nomech}to server 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]: no mechanism "
contains "password, no filter: Postfix's status" "$MB_TMP/p1.log" \
	"${nomech}available\\)"
if pf_delivered p1; then ok 1 "password, no filter: not relayed"
else ok 0 "password, no filter: not relayed"; fi

# --- the fix the line names: the filter in main.cf -------------------------
: > "$rec"
pf_set "smtp_sasl_mechanism_filter=plain, login"
check "smtp_sasl_mechanism_filter = plain, login" pf_reload
check "main.cf filter: the deferred message is relayed" pf_wait_delivered p1
check "main.cf filter: with PLAIN or LOGIN ($(auths))" \
	grep -Eq '^AUTH (PLAIN|LOGIN) ok$' "$rec"
lacks "main.cf filter: no XOAUTH2/OAUTHBEARER" "$rec" 'XOAUTH2|OAUTHBEARER'

# --- or per destination: -o on its transport in master.cf -------------------
: > "$rec"
pf_set smtp_sasl_mechanism_filter=
postconf -c "$MB_PF_CONF" -P "smtp/unix/smtp_sasl_mechanism_filter=plain,login"
postconf -c "$MB_PF_CONF" -P > "$MB_TMP/master.P"
contains "master.cf: -o smtp_sasl_mechanism_filter on smtp" \
	"$MB_TMP/master.P" '^smtp/unix/smtp_sasl_mechanism_filter = plain,login$'
check "reload with the transport's filter only" pf_reload
pf_send p2
check "transport filter: relayed" pf_wait_delivered p2
check "transport filter: with PLAIN or LOGIN ($(auths))" \
	grep -Eq '^AUTH (PLAIN|LOGIN) ok$' "$rec"
lacks "transport filter: no XOAUTH2/OAUTHBEARER" "$rec" \
	'XOAUTH2|OAUTHBEARER'

# --- or one destination on its own transport (transport_maps) -------------
# doc/usage-postfix.md's recipe: a copy of the smtp service with the
# filter, and the destination routed to it; smtp itself has no filter.
: > "$rec"
postconf -c "$MB_PF_CONF" -PX "smtp/unix/smtp_sasl_mechanism_filter"
postconf -c "$MB_PF_CONF" -M smtp/unix |
	sed 's/^smtp /smtp-pass /' > "$MB_TMP/smtp-pass.M"
postconf -c "$MB_PF_CONF" -M "smtp-pass/unix=$(cat "$MB_TMP/smtp-pass.M")"
postconf -c "$MB_PF_CONF" -P \
	"smtp-pass/unix/smtp_sasl_mechanism_filter=plain,login"
printf 'isp.example smtp-pass:[127.0.0.1]:%s\n' "$PF_RELAY_PORT" \
	> "$MB_TMP/transport"
pf_set "transport_maps = texthash:$MB_TMP/transport"
check "reload with a filtered transport for isp.example only" pf_reload
pf_send p3 dave@example.com carol@isp.example
check "transport_maps: relayed" pf_wait_delivered p3
check "transport_maps: with PLAIN or LOGIN ($(auths))" \
	grep -Eq '^AUTH (PLAIN|LOGIN) ok$' "$rec"
lacks "transport_maps: no XOAUTH2/OAUTHBEARER" "$rec" \
	'XOAUTH2|OAUTHBEARER'
pf_set transport_maps=
check "reload without transport_maps" pf_reload

# --- a token in the password, no filter: XOAUTH2 as before -----------------
: > "$rec"
postconf -c "$MB_PF_CONF" -PX "smtp/unix/smtp_sasl_mechanism_filter"
pf_passwd "$user" "$tok"
check "reload with a token-shaped password and no filter" pf_reload
pf_send t1
check "token, no filter: relayed" pf_wait_delivered t1
check "token, no filter: with XOAUTH2 ($(auths))" \
	[ -n "$(auths)" -a -z "$(auths | tr ';' '\n' | grep -v 'XOAUTH2 ok')" ]

lacks "the password is in no maillog line" "$MB_PF_LOG" "$pass"
lacks "the token is in no maillog line" "$MB_PF_LOG" "$tok"
lacks "no smtp(8) crash" "$MB_PF_LOG" \
	'killed by signal|terminated on signal|panic:|fatal:'
done_testing

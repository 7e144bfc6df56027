#!/bin/sh
# SPDX-License-Identifier: MIT
# Postfix as the real SMTP client, helper mode: smtp_sasl_password_maps says
# `mailbearer:relay`, so our plugin inside smtp(8) (running as user
# postfix) asks `mailbearer serve` for the account's token over its UNIX
# socket; the helper refreshes at the mock provider.  The account was
# imported with `mailbearer import` (refresh token on stdin) and allows
# the user postfix (`allow = postfix`).
#   first message        -> delivered, exactly one refresh
#   token revoked        -> one deferral (535), the plugin reports the
#                           rejection, the retry is delivered after exactly
#                           one more refresh
#   empty password       -> the account named like the login (a
#                           Microsoft-like one: 5000-byte tokens, rotation)
#   account without allow -> deferred with the helper's refusal
#   chrooted smtp(8)     -> the same through a socket inside the queue
#                           directory (MAILBEARER_SOCKET relative to it)
#   chrooted, no MAILBEARER_SOCKET -> the compiled-in socket path, looked
#                           up inside the chroot (doc/usage-serve.md)
#   helper down          -> deferred at once with the plugin's reason
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/postfix.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
pf_setup

user=dave@example.com
other=erin@example.com
third=frank@example.com
CONF=$MB_TMP/mailbearer.conf
RUN=$MB_TMP/run
INSIDE=$MB_TMP/postfix/spool/mailbearer
mkdir -p "$RUN" "$INSIDE"
chmod 0755 "$RUN" "$INSIDE" "$MB_TMP/postfix" "$MB_TMP/postfix/spool"
# The plugin's compiled-in system socket (what serve uses by default as
# root), recreated below the queue directory for smtp(8) in its chroot.
SYSSOCK=$("$MB_HELPER" serve --help 2>&1 |
	sed -n 's/^Default socket: \(\/[^ ]*\) (root).*/\1/p')
# A UNIX socket path has at most 107 bytes: under `make distcheck` the
# compiled-in path lies in a deep private prefix, and below the queue
# directory it may not fit; those checks are then skipped, not failed.
SYSSOCK_IN=$MB_TMP/postfix/spool$SYSSOCK
if [ -n "$SYSSOCK" ] && [ "${#SYSSOCK_IN}" -le 107 ]; then
	# the plugin built with serve's socket: a mismatch is a failure
	grep -aqF -- "$SYSSOCK" "$MB_PLUGIN_SO"
	ok $? "the plugin's compiled-in socket is serve's ($SYSSOCK)"
	mkdir -p "${SYSSOCK_IN%/*}"
	chmod -R go+rX "$MB_TMP/postfix/spool"
	set -- --socket "$SYSSOCK_IN,mode=0660,group=postfix"
else
	SYSSOCK_IN=
	set --
fi
( umask 077; : > "$CONF" )
for acct in relay closed "$third"; do
	case $acct in
	relay) u=$user; allow="allow = postfix" ;;
	closed) u=$other; allow= ;;
	*) u=$acct; allow="allow = postfix" ;;
	esac
	cat >> "$CONF" <<EOF
[$acct]
provider = generic
token_endpoint = $MB_PROVIDER_URL/token
client_id = cid
ca_file = $MB_CA
state_dir = $MB_TMP/state
user = $u
$allow
EOF
	# frank: Microsoft-like, 5000-byte access tokens, rotated refresh.
	case $acct in
	relay|closed) ms= ;;
	*) ms="--token-bytes 5000 --rotation rotate --style microsoft" ;;
	esac
	# shellcheck disable=SC2086 # $ms: words on purpose
	rt=$(mockctl account "$u" --client-id cid $ms)
	printf '%s\n' "$rt" >> "$MB_TMP/secrets"
	[ "$acct" = "$third" ] && third_rt=$rt
	printf '%s\n' "$rt" | "$MB_HELPER" --config "$CONF" import "$acct" \
		> "$MB_TMP/import.out" 2>&1
	ok $? "mailbearer import $acct (refresh token on stdin)"
done

refreshes() { mockctl count "users.$1.refresh"; }
# How Postfix logs the plugin's error detail (SASL_LOG_ERR: "problem").
sasl_warn='SASL authentication (failure|problem): XOAUTH2'


"$MB_HELPER" serve --config "$CONF" \
	--socket "$RUN/socket,mode=0660,group=postfix" \
	--socket "$INSIDE/socket,mode=0660,group=postfix" "$@" \
	--foreground > "$MB_TMP/serve.log" 2>&1 &
serve_pid=$!
at_exit "stop_pid $serve_pid"
if wait_for 20 test -S "$RUN/socket" && wait_for 5 test -S "$INSIDE/socket"
then ok 0 "mailbearer serve listens on both sockets"; else
	ok 1 "mailbearer serve listens on both sockets"
	mb_diag_file "$MB_TMP/serve.log"
fi

# delivered_after_one_deferral ID WHAT: a deferral by the server's 535, then
# delivery of the retry.
delivered_after_one_deferral() {
	if pf_wait_status "$1" deferred; then ok 0 "$2: first attempt deferred"
	else ok 1 "$2: first attempt deferred"; mb_diag_file "$MB_PF_LOG"; fi
	pf_log_of "$1" > "$MB_TMP/$1.log"
	contains "$2: deferred by the server's 535" "$MB_TMP/$1.log" \
		'status=deferred \(SASL authentication failed; server .* said: 535 '
	check "$2: retry delivered to the sink" pf_wait_delivered "$1"
	check "$2: retry status=sent" pf_wait_status "$1" sent
}

# --- unchrooted smtp(8), socket outside -----------------------------------
pf_passwd "$user" mailbearer:relay
PF_ENV="MAILBEARER_SOCKET=$RUN/socket" start_postfix ||
	{ echo "Bail out! postfix did not start"; exit 1; }
pf_send h1
check "helper: delivered to the sink" pf_wait_delivered h1
check "helper: status=sent" pf_wait_status h1 sent
contains "helper: Dovecot logged the XOAUTH2 login" "$MB_DOVECOT_LOG" \
	"Login: user=<$user>, method=XOAUTH2"
contains "helper: the token went over verified TLS" "$MB_PF_LOG" \
	'smtp\[[0-9]+\]: Verified TLS connection established to 127\.0\.0\.1'
r=$(refreshes "$user")
check "helper: exactly one refresh at the provider (got $r)" [ "$r" = 1 ]

mockctl revoke "$user" --what access > /dev/null
pf_mark
pf_send h2
delivered_after_one_deferral h2 "revoked"
pf_log_since > "$MB_TMP/h2.since"
contains "revoked: our decoded reason in the maillog" "$MB_TMP/h2.since" \
	"$sasl_warn: server rejected the access token"
r=$(refreshes "$user")
check "revoked: exactly one more refresh (got $r)" [ "$r" = 2 ]
contains "revoked: smtp(8) reported the rejection as user postfix" \
	"$MB_TMP/serve.log" "rejected .*\(reported by uid $(id -u postfix)\)"

# An empty password asks for the account named like the login.
pf_passwd "$third" ""
check "reload with an empty password" pf_reload
pf_send e1 "$third"
check "empty password, 5000-byte token: delivered to the sink" \
	pf_wait_delivered e1
r=$(refreshes "$third")
check "empty password: one refresh for $third (got $r)" [ "$r" = 1 ]
r=$("$MB_PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1])).get("refresh_token", ""))' \
	"$MB_TMP/state/$third.json")
rc=1
[ -n "$r" ] && [ "$r" != "$third_rt" ] && rc=0
ok $rc "empty password: the rotated refresh token was saved"

# An account that does not allow the user postfix.
pf_passwd "$other" mailbearer:closed
check "reload with account closed" pf_reload
pf_mark
pf_send c1 "$other"
check "closed: deferred" pf_wait_status c1 deferred
pf_log_since > "$MB_TMP/c1.since"
contains "closed: the helper's refusal in the maillog" "$MB_TMP/c1.since" \
	"account \"?closed\"? is not available to uid $(id -u postfix)"
contains "closed: serve's log names the allow line to add" "$MB_TMP/serve.log" \
	"uid $(id -u postfix) may not use account \"closed\"; add it to \"allow\""
if pf_delivered c1; then ok 1 "closed: not delivered"; else
	ok 0 "closed: not delivered"; fi
timeout 20 postsuper -c "$MB_PF_CONF" -d ALL >/dev/null 2>&1

# --- chrooted smtp(8), socket inside the queue directory ------------------
stop_postfix
pf_passwd "$user" mailbearer:relay
PF_CHROOT=y PF_ENV="MAILBEARER_SOCKET=/mailbearer/socket" start_postfix ||
	{ echo "Bail out! postfix (chrooted) did not start"; exit 1; }
pf_send k1
check "chroot: delivered to the sink" pf_wait_delivered k1
check "chroot: status=sent" pf_wait_status k1 sent
k1_pid=$(pf_log_of k1 |
	sed -n 's/.*\/smtp\[\([0-9]*\)\]: .*status=sent.*/\1/p')
r=$(readlink "/proc/${k1_pid:-0}/root" 2>/dev/null)
check "chroot: smtp(8) ran chrooted in the queue directory" \
	[ "$r" = "$MB_PF_QUEUE" ]
r=$(refreshes "$user")
check "chroot: token served from the helper's memory (refreshes $r)" \
	[ "$r" = 2 ]
# Time passes: forced refreshes after a rejection are limited to one per
# account per minute, and the one above was less than a minute ago.
"$MB_PYTHON" -c 'import json, os, sys, time
p = sys.argv[1]
d = json.load(open(p))
d["last_forced"] = int(time.time()) - 120
with open(p + ".t", "w") as f:
    json.dump(d, f)
os.chmod(p + ".t", 0o600)
os.rename(p + ".t", p)' "$MB_TMP/state/relay.json"
mockctl revoke "$user" --what access > /dev/null
pf_send k2
delivered_after_one_deferral k2 "chroot revoked"
r=$(refreshes "$user")
check "chroot revoked: exactly one more refresh (got $r)" [ "$r" = 3 ]

# --- chrooted smtp(8), compiled-in socket path inside the chroot ---------
if [ -n "$SYSSOCK_IN" ]; then
	stop_postfix
	PF_CHROOT=y PF_ENV= start_postfix ||
		{ echo "Bail out! postfix (chrooted) did not start"; exit 1; }
	pf_send s1
	check "compiled-in path in the chroot: delivered" pf_wait_delivered s1
	check "compiled-in path in the chroot: status=sent" \
		pf_wait_status s1 sent
	r=$(refreshes "$user")
	check "compiled-in path: served from memory (refreshes $r)" [ "$r" = 3 ]
else
	skip "compiled-in socket path not found in serve --help and the" \
		"plugin, or too long below the queue directory ($SYSSOCK_IN)"
	skip "compiled-in path in the chroot"
	skip "compiled-in path: served from memory"
fi

# --- no secrets, no crash -------------------------------------------------
remember_state_tokens "$MB_TMP/state"
no_secrets "no token in the maillog, serve's or Dovecot's log" \
	"$MB_PF_LOG" "$MB_TMP/serve.log" "$MB_DOVECOT_LOG"
check "checked $(wc -l < "$MB_TMP/secrets") secrets" \
	[ "$(wc -l < "$MB_TMP/secrets")" -ge 5 ]
lacks "no smtp(8) crash (signal, panic, fatal)" "$MB_PF_LOG" \
	'killed by signal|terminated on signal|panic:|fatal:|exit status [1-9]'
check "mailbearer serve still runs" kill -0 "$serve_pid"

# --- the helper is down: deferred at once, with the reason ----------------
stop_pid "$serve_pid"
pf_mark
pf_send n1
check "serve down: deferred" pf_wait_status n1 deferred
pf_log_since > "$MB_TMP/n1.since"
contains "serve down: the plugin's reason in the maillog" "$MB_TMP/n1.since" \
	"$sasl_warn: mailbearer serve is not running at "
if pf_delivered n1; then ok 1 "serve down: not delivered"; else
	ok 0 "serve down: not delivered"; fi
done_testing

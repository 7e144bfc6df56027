#!/bin/sh
# SPDX-License-Identifier: MIT
# msmtp, the real binary, sends through the private Dovecot's submission
# service (STARTTLS with the test CA, host localhost) with its built-in
# `auth xoauth2` and `auth oauthbearer`, the token from
# `passwordeval "mailbearer token ACCOUNT"` (msmtp does not use libsasl2:
# this checks that what `token` prints is what such clients need).  Across
# a forced expiry in the state: `token` refreshes first, msmtp sends.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
need msmtp
token_servers_setup

user=alice@example.com
mb_account "$user"
refreshes() { mockctl count "users.$user.refresh"; }

# msmtprc FILE AUTH: an msmtp configuration (0600: msmtp insists).
msmtprc() {
	( umask 077; cat > "$1" <<EOC
defaults
tls on
tls_starttls on
tls_trust_file $MB_CA
timeout 20

account test
host localhost
port $MB_SUBMISSION_PORT
from $user
user $user
auth $2
passwordeval "'$MB_HELPER' --config '$MB_CONF' token $user"

account default : test
EOC
	)
}
# send OUT RC N: message N through msmtp (bounded).
send() {
	printf 'From: %s\nTo: bob@example.com\nSubject: m%s\n\nbody of m%s\n' \
		"$user" "$3" "$3" > "$1.msg"
	timeout 60 msmtp -C "$2" -t --debug < "$1.msg" > "$1" 2>&1
	send_rc=$?
}

n=0
for auth in xoauth2 oauthbearer; do
	msmtprc "$MB_TMP/rc-$auth" "$auth"
	n=$((n + 1))
	send "$MB_TMP/m$n" "$MB_TMP/rc-$auth" "$n"
	check "msmtp auth $auth: exit 0" test "$send_rc" = 0
	[ "$send_rc" = 0 ] || mb_diag_file "$MB_TMP/m$n"
	up=$(echo "$auth" | tr a-z A-Z)
	contains "msmtp auth $auth: AUTH $up accepted (235)" \
		"$MB_TMP/m$n" '<-- 235 '
	contains "msmtp auth $auth: the message was accepted (250)" \
		"$MB_TMP/m$n" '<-- 250 .*(OK|Ok|ok)'
done
check "one refresh for both (token cached in the state)" \
	test "$(refreshes)" = 1
remember_secret "$(st_get "$user" access_token)"

# Forced expiry: `token` refreshes before msmtp sends.
time_left "$user" -5
n=$((n + 1))
send "$MB_TMP/m$n" "$MB_TMP/rc-xoauth2" "$n"
check "token expired: msmtp exit 0" test "$send_rc" = 0
check "token expired: one more refresh" test "$(refreshes)" = 2
remember_secret "$(st_get "$user" access_token)"

# The server revokes the token: msmtp fails with the server's answer.
mockctl expire "$user" --what access > /dev/null
n=$((n + 1))
send "$MB_TMP/m$n" "$MB_TMP/rc-oauthbearer" "$n"
check "token revoked: msmtp fails" test "$send_rc" != 0
contains "token revoked: msmtp shows the server's refusal" \
	"$MB_TMP/m$n" '<-- 535 '
mb token --refresh "$user"
check "token --refresh" test "$mb_rc" = 0
remember_secret "$(cat "$MB_TMP/out")"
n=$((n + 1))
send "$MB_TMP/m$n" "$MB_TMP/rc-oauthbearer" "$n"
check "after token --refresh: msmtp sends again" test "$send_rc" = 0

# (msmtp --debug shows the AUTH line, token included, by design: only
# mailbearer's own stderr is checked.)
no_secrets "no token in mailbearer's stderr" "$MB_TMP/all-stderr"
done_testing

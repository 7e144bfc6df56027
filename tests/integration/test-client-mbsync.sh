#!/bin/sh
# SPDX-License-Identifier: MIT
# mbsync (isync), the real binary, syncs INBOX from the private Dovecot
# (STARTTLS with the test CA, Host localhost) with AuthMechs XOAUTH2:
#   PassCmd "mailbearer token ACCOUNT"  the token is the password; an
#       expired token in the state is refreshed by `token` before mbsync
#       gets it; a token the server revoked is handed out again until
#       `token --refresh` (nothing tells a one-shot `token` of the
#       rejection: the documented limit of PassCmd)
#   Pass "mailbearer:ACCOUNT"           the plugin asks `serve`; after a
#       server rejection (mockctl expire) the failing run reports it and
#       the next run recovers with exactly one refresh
# Each run must leave the messages in the local maildir.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/mbsync.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
# (an ASan-built plugin cannot be loaded into the uninstrumented client)
[ "${MB_SANITIZE:-}" != 1 ] ||
	skip_all "ASan build: mbsync cannot load the ASan-built plugin"
need mbsync
e2e_setup imtest
token_files

user=alice@example.com
mb_account "$user"
refreshes() { mockctl count "users.$user.refresh"; }

# deliver N: message N straight into the user's maildir at Dovecot.
MAILDIR=$MB_DOVECOT_DIR/mail/$user
mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
chown -R dovecot:dovecot "$MAILDIR"
deliver() {
	f=$MAILDIR/new/$(date +%s).mb$1.localhost
	printf 'From: a@example.com\nTo: %s\nSubject: m%s\n' "$user" "$1" \
		> "$f"
	printf 'Message-ID: <m%s@mb>\n\nbody of m%s\n' "$1" "$1" >> "$f"
	chown dovecot:dovecot "$f"
}


# --- PassCmd "mailbearer token ACCOUNT" -----------------------------------
L1=$MB_TMP/local-passcmd
mbrc "$MB_TMP/rc1" "$L1" \
	"PassCmd \"'$MB_HELPER' --config '$MB_CONF' token $user\"
AuthMechs XOAUTH2"
deliver 1
sync_run "$MB_TMP/p1" "$MB_TMP/rc1"
check "PassCmd: mbsync exits 0" test "$sync_rc" = 0
[ "$sync_rc" = 0 ] || mb_diag_file "$MB_TMP/p1"
check "PassCmd: the message arrived" has "$L1" 1
check "PassCmd: one refresh" test "$(refreshes)" = 1
remember_secret "$(st_get "$user" access_token)"

# Forced expiry in the state: `token` refreshes before mbsync logs in.
time_left "$user" -5
deliver 2
sync_run "$MB_TMP/p2" "$MB_TMP/rc1"
check "PassCmd, token expired: mbsync exits 0" test "$sync_rc" = 0
check "PassCmd, token expired: the message arrived" has "$L1" 2
check "PassCmd, token expired: one more refresh" test "$(refreshes)" = 2
remember_secret "$(st_get "$user" access_token)"

# The server rejects the token (expired at the provider).
mockctl expire "$user" --what access > /dev/null
deliver 3
sync_run "$MB_TMP/p3" "$MB_TMP/rc1"
check "PassCmd, token revoked: mbsync fails" test "$sync_rc" != 0
if has "$L1" 3; then ok 1 "PassCmd, token revoked: nothing synced"; else
	ok 0 "PassCmd, token revoked: nothing synced"; fi
contains "PassCmd, token revoked: the plugin says the server rejected it" \
	"$MB_TMP/p3.syslog" "rejected the access token for $user"
mb token --refresh "$user"
check "token --refresh after the rejection" test "$mb_rc" = 0
remember_secret "$(cat "$MB_TMP/out")"
sync_run "$MB_TMP/p4" "$MB_TMP/rc1"
check "PassCmd, next run after token --refresh: exits 0" test "$sync_rc" = 0
check "PassCmd, next run: the message arrived" has "$L1" 3

# --- Pass "mailbearer:ACCOUNT": the plugin asks serve ----------------------
check "serve started" start_serve
L2=$MB_TMP/local-serve
mbrc "$MB_TMP/rc2" "$L2" "Pass \"mailbearer:$user\"
AuthMechs XOAUTH2"
n0=$(refreshes)
sync_run "$MB_TMP/s1" "$MB_TMP/rc2"
check "serve: mbsync exits 0" test "$sync_rc" = 0
[ "$sync_rc" = 0 ] || mb_diag_file "$MB_TMP/s1"
check "serve: the messages arrived" has "$L2" 1
check "serve: ... all of them" has "$L2" 3
remember_secret "$(st_get "$user" access_token)"

# A minute passes since the forced refresh above (at most one a minute).
st_set "$user" last_forced 'now - 61'
mockctl expire "$user" --what access > /dev/null
n1=$(refreshes)
deliver 4
sync_run "$MB_TMP/s2" "$MB_TMP/rc2"
check "serve, token revoked: this run fails" test "$sync_rc" != 0
check "serve was told about the rejection" \
	wait_for 10 grep -q 'rejected the current token' "$MB_TMP/serve.log"
refreshed_to() { [ "$(refreshes)" = "$1" ]; }
check "... and refreshed once" wait_for 10 refreshed_to $((n1 + 1))
sync_run "$MB_TMP/s3" "$MB_TMP/rc2"
check "serve: the next run recovers" test "$sync_rc" = 0
check "serve: the message arrived" has "$L2" 4
check "serve: still exactly one refresh for the rejection" \
	test "$(refreshes)" = $((n1 + 1))
check "serve: no refresh besides the rejection's" test "$n0" = "$n1"
remember_secret "$(st_get "$user" access_token)"

no_secrets "no secret in mbsync's output, the plugin's or serve's log" \
	"$MB_TMP"/p[0-9] "$MB_TMP"/s[0-9] "$MB_TMP"/*.syslog \
	"$MB_TMP/serve.log" "$MB_TMP/all-stderr"
done_testing

#!/bin/sh
# SPDX-License-Identifier: MIT
# From nothing to a working login with mailbearer alone: a `serve` is
# already running for two accounts that were never authorized; one is
# authorized with the loopback flow (curl plays the browser), the other
# with the device flow; then a real imtest login through the plugin, with
# an empty password, gets each account's token from that serve, and
# Dovecot accepts it (it checks the token with the mock provider).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/authorize.sh"
need_helper
need curl
e2e_setup imtest

token_files
u1=alice@example.com
u2=bob@example.com
ms_scope="https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
mockctl account "$u1" --client-id cid > /dev/null
mockctl account "$u2" --client-id cid --style microsoft --rotation rotate \
	--scope "$ms_scope" > /dev/null
az_conf "$u1" google
az_conf "$u2" microsoft "scope = $ms_scope"

check "serve started (no account authorized yet)" start_serve

cmds='a1 SELECT INBOX
a2 LOGOUT'
imap() { sasl_client "$1" imtest "$MB_IMAP_PORT" XOAUTH2 "$2" "" "$cmds"; }

imap "$MB_TMP/i0" "$u1"
lacks "before authorize: no login" "$MB_TMP/i0" '^Authenticated\.'

# Login CSRF: someone who can read alice's authorization address signs in
# as mallory; the redirect brings mallory's code to alice's listener.
mockctl account mallory@example.com --client-id cid > /dev/null
mockctl authorize-mode as:mallory@example.com > /dev/null
az_start csrf "$u1"
az_browse "$(az_url csrf)" "$MB_TMP/csrf.page"
check "mallory signs in on alice's authorization: exit 77" \
	test "$(az_rc csrf)" = 77
contains "... naming both" "$MB_TMP/csrf.err" \
	"says mallory@example.com signed in, but the account's user is $u1"
check "... nothing stored" test ! -e "$MB_TMP/state/$u1.json"

az_start loop "$u1"
az_browse "$(az_url loop)" "$MB_TMP/loop.page"
check "authorize (loopback): exit 0" test "$(az_rc loop)" = 0
remember_secret "$(st_get "$u1" refresh_token)"
remember_secret "$(st_get "$u1" access_token)"

mockctl device --interval 1 --expires-in 120 --script "" > /dev/null
az_start dev "$u2" --device
wait_for 10 grep -q '^Waiting' "$MB_TMP/dev.out"
mockctl device-approve "$u2" > /dev/null
check "authorize --device: exit 0" test "$(az_rc dev)" = 0
remember_secret "$(st_get "$u2" refresh_token)"
remember_secret "$(st_get "$u2" access_token)"

# serve re-reads an account whose last attempt failed at the next request
# MB_CACHE_REQUEST_RETRY (10 s) after that failure: bounded retries.
n1=$(mockctl count "users.$u1.refresh")
t0=$(date +%s)
for i in 1 2 3 4 5 6; do
	imap "$MB_TMP/i1" "$u1"
	grep -q '^Authenticated\.' "$MB_TMP/i1" && break
	sleep 3
done
contains "the running serve hands out the authorized token: IMAP login" \
	"$MB_TMP/i1" '^Authenticated\.'
diag "first successful login $(( $(date +%s) - t0 )) s after authorize"
contains "... mailbox usable" "$MB_TMP/i1" '^a1 OK \[READ-WRITE\]'
check "... the token authorize stored, no refresh" \
	test "$(mockctl count "users.$u1.refresh")" = "$n1"
imap "$MB_TMP/i2" "$u2"
contains "the device-flow account logs in too" "$MB_TMP/i2" '^Authenticated\.'

mb token "$u1"
ok $? "mailbearer token works for the authorized account"

kill -TERM "$spid"
wait_for 20 sh -c "! kill -0 $spid"
no_secrets "no secret in serve's log, the plugin's or authorize's" \
	"$MB_TMP/serve.log" "$MB_TMP"/i*.syslog "$MB_TMP/all-stderr"
done_testing

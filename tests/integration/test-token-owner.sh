#!/bin/sh
# SPDX-License-Identifier: MIT
# A state directory of another user (the packaged /var/lib/mailbearer
# belongs to the user serve runs as): root reads it (status, doctor, a
# token still valid on disk) but never writes in it (a refresh as root
# is refused, naming the owner and `runuser -u OWNER -- mailbearer`, and
# leaves no root-owned file); every fix text names that command
# (tokenhelper/owner.c); following it works.  A state file whose owner
# is not its directory's: the fix is chown to the directory's owner.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (files of another user)"
need runuser
owner=$(id -nu 65534 2> /dev/null) || skip_all "no user with uid 65534"
token_setup
u=owner@example.com
# The service user must reach the configuration, the CA certificate (a
# public one, copied: the run's CA directory is shared and 0700) and the
# state directory.
chmod 711 "$MB_TMP"
cp "$MB_CA" "$MB_TMP/pubca.pem" && chmod 644 "$MB_TMP/pubca.pem" ||
	bail_out "cannot copy the CA certificate"
MB_CA=$MB_TMP/pubca.pem
sd=$MB_TMP/svc-state
MB_ACCT_STATE_DIR=$sd mb_conf_account "$MB_CONF" "$u"
chmod 644 "$MB_CONF"
mkdir -m 700 "$sd"
chown 65534 "$sd"
as_owner() {
	timeout 30 runuser -u "$owner" -- "$MB_HELPER" --config "$MB_CONF" \
		"$@" > "$MB_TMP/out" 2> "$MB_TMP/err"
}
only_owners() { test -z "$(find "$sd" ! -uid 65534)"; }
run="runuser -u $owner -- mailbearer"
rrun=$(printf '%s\n' "$run" | sed 's/[.]/\\./g')

mb status "$u"
contains "root, no state yet: status names \`$run authorize\`" \
	"$MB_TMP/out" "run \`$rrun authorize $u\` or \`$rrun import $u\`"

# The owner itself (a system user: no login shell) is told the command
# as root runs it, e.g. in serve's log.
MB_ACCT_STATE_DIR=$sd mb_conf_account "$MB_CONF" fresh@example.com
chmod 644 "$MB_CONF"
as_owner token fresh@example.com
contains "$owner, an account never authorized: the advice names \`$run authorize\`" \
	"$MB_TMP/err" "run \`$rrun authorize fresh@example.com\`"

rt=$(mockctl account "$u" --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | as_owner import "$u"
ok $? "$run import: done"
cp "$MB_TMP/err" "$MB_TMP/import.err"

# Root reads.
mb status "$u"
rc=$?
check "root: status of $owner's healthy account exits 0 (exit $rc)" \
	test "$rc" = 0
contains "... and says ok" "$MB_TMP/out" "^$u: generic, refresh_token: ok"

# Root does not write: a refresh is refused, nothing of root's is left.
mb token "$u"
rc=$?
check "root: a token that needs a refresh is refused (exit $rc)" \
	test "$rc" = 78
contains "... naming the owner and the command to run" "$MB_TMP/err" \
	"state directory $sd belongs to $owner: root reads it but writes nothing there .*; run the command as $owner: $rrun \\.\\.\\."
lacks "... and no chown" "$MB_TMP/err" "chown"
check "... and no file of root's in $sd" only_owners

# The advice followed.
as_owner token "$u"
ok $? "$run token: refreshed"
at=$(cat "$MB_TMP/out")
remember_secret "$at"
mb token "$u"
ok $? "root: the token valid on disk is read"
check "... the owner's" test "$(cat "$MB_TMP/out")" = "$at"
check "... and no file of root's in $sd" only_owners

MAILBEARER_SOCKET=$MB_TMP/no-serve.sock timeout 60 "$MB_HELPER" \
	--config "$MB_CONF" doctor > "$MB_TMP/doctor.out" 2>&1
contains "root: doctor passes the modes of $owner's state" \
	"$MB_TMP/doctor.out" "^PASS modes: \\[$u\\] state directory $sd and its state file are private"
contains "... and reads the state" "$MB_TMP/doctor.out" "^PASS state: \\[$u\\]"
contains "... and the token on disk" "$MB_TMP/doctor.out" "^PASS token: \\[$u\\]"
lacks "... no sudo in any advice" "$MB_TMP/doctor.out" "sudo"

# A reason stored by serve (as the owner) names the command for root.
"$MB_PYTHON" - "$sd/$u.json" <<'PY'
import json, sys, os
p = sys.argv[1]
d = json.load(open(p))
d["needs_authorize"] = True
d["reason"] = "the provider refused the refresh token; run `mailbearer authorize`"
json.dump(d, open(p, "w"))
PY
mb status "$u"
contains "root: a stored reason names \`$run authorize\`" "$MB_TMP/out" \
	"run \`$rrun authorize\`"

# A state file of another user in root's own state directory.
sd2=$MB_TMP/root-state
mkdir -m 700 "$sd2"
cp "$sd/$u.json" "$sd2/$u.json"
chown 65534 "$sd2/$u.json"
sed "s|^state_dir = .*|state_dir = $sd2|" "$MB_CONF" > "$MB_TMP/c2"
"$MB_HELPER" --config "$MB_TMP/c2" token "$u" > "$MB_TMP/out" \
	2> "$MB_TMP/err"
rc=$?
check "root, a state file of $owner in root's directory: refused (exit $rc)" \
	test "$rc" != 0
contains "... the fix: chown to the directory's owner" "$MB_TMP/err" \
	"state file $sd2/$u.json belongs to $owner, but its directory to root, whom serve runs as; run: chown root $sd2/$u.json"
no_secrets "no secret in any output" "$MB_TMP/err" "$MB_TMP/out" \
	"$MB_TMP/import.err" "$MB_TMP/all-stderr" "$MB_TMP/doctor.out"
done_testing

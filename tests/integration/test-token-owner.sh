#!/bin/sh
# A state directory or file of another user (the packaged
# /var/lib/mailbearer belongs to the user serve runs as): refused, and the
# error names both users and both fixes: run as the owner (runuser), or
# chown to this user.  Following the first fix works.
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

"$MB_HELPER" --config "$MB_CONF" token "$u" > "$MB_TMP/out" 2> "$MB_TMP/err"
rc=$?
check "root, the service user's state directory: refused (exit $rc)" \
	test "$rc" != 0
contains "... naming both users and the first fix (runuser)" "$MB_TMP/err" \
	"state directory $sd belongs to $owner \\(uid 65534\\), not to root \\(uid 0\\) running mailbearer; run mailbearer as its owner, the user serve must run as too: runuser -u $owner -- mailbearer \\.\\.\\."
contains "... and the other (chown)" "$MB_TMP/err" \
	"or, to give it to root: chown 0 $sd\$"

# The advice followed: the owner imports, and its state is its own.
rt=$(mockctl account "$u" --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | timeout 10 runuser -u "$owner" -- "$MB_HELPER" \
	--config "$MB_CONF" import "$u" > "$MB_TMP/out" 2> "$MB_TMP/err"
ok $? "runuser -u $owner -- mailbearer import: done"
cp "$MB_TMP/err" "$MB_TMP/import.err"
check "the state file belongs to $owner" \
	test "$(stat -c %u "$sd/$u.json")" = 65534

# A state file of another user in root's own state directory.
sd2=$MB_TMP/root-state
mkdir -m 700 "$sd2"
cp "$sd/$u.json" "$sd2/$u.json"
chown 65534 "$sd2/$u.json"
sed "s|^state_dir = .*|state_dir = $sd2|" "$MB_CONF" > "$MB_TMP/c2"
"$MB_HELPER" --config "$MB_TMP/c2" token "$u" > "$MB_TMP/out" \
	2> "$MB_TMP/err"
rc=$?
check "root, a state file of $owner: refused (exit $rc)" test "$rc" != 0
contains "... naming both users and both fixes" "$MB_TMP/err" \
	"state file $sd2/$u.json belongs to $owner \\(uid 65534\\), not to root \\(uid 0\\) running mailbearer; run mailbearer as its owner, the user serve must run as too: runuser -u $owner -- mailbearer \\.\\.\\.; or, to give it to root: chown 0 $sd2/$u.json"
no_secrets "no secret in any output" "$MB_TMP/err" "$MB_TMP/out" \
	"$MB_TMP/import.err"
done_testing

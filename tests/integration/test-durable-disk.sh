#!/bin/sh
# SPDX-License-Identifier: MIT
# A full disk or a read-only state directory: the refresh token is not
# spent (no request), the error names the directory and the cause, and
# the grant survives (strict rotation) once the disk is writable again.
# The small tmpfs is mounted in a private mount namespace: the host never
# sees it, and it goes away with the test however the test ends (even
# SIGKILL from a harness timeout).
if [ -z "${MB_DISK_NS:-}" ] &&
    unshare --mount --propagation private true 2> /dev/null; then
	MB_DISK_NS=$(readlink /proc/self/ns/mnt) exec unshare --mount --propagation private sh "$0" "$@"
fi
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
need mount umount dd
# A private mount namespace: this one differs from PID 1's (or, when
# that cannot be read, from the one the test started in); the check
# after the mount proves it against the host's mount table.
[ -r /proc/1/mountinfo ] || skip_all "cannot read the host's mount table"
ns_now=$(readlink /proc/self/ns/mnt)
ns_host=$(readlink /proc/1/ns/mnt 2> /dev/null || echo "$MB_DISK_NS")
[ -n "$ns_now" ] && [ "$ns_now" != "$ns_host" ] &&
	[ "$ns_now" != "${MB_DISK_NS:-}" ] ||
	skip_all "cannot make a private mount namespace"
mnt=$MB_TMP/mnt
mkdir "$mnt"
if ! mount -t tmpfs -o size=512k,mode=700 mbtest "$mnt" 2> /dev/null; then
	skip_all "cannot mount a tmpfs here"
fi
at_exit "umount '$mnt' 2> /dev/null"
check "the tmpfs is private to the test (not in the host's mount table)" \
	sh -c "grep -qF ' $mnt ' /proc/1/mountinfo; [ \$? = 1 ]"
u=disk@example.com
MB_ACCT_STATE_DIR=$mnt/state mb_conf_account "$MB_CONF" "$u"
chmod 600 "$MB_CONF"
sd=$mnt/state
st() { "$MB_PYTHON" -c 'import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("" if v is None else v)' "$sd/$u.json" "$1"; }
expire() { "$MB_PYTHON" -c 'import json, sys, time, os
p = sys.argv[1]
d = json.load(open(p))
d["expires_at"] = int(time.time()) - 30
d["last_refresh"] = d["expires_at"] - 3600
with open(p, "r+") as f:
    f.seek(0)
    f.write(json.dumps(d))
    f.truncate()' "$sd/$u.json"; }
rt=$(mockctl account "$u" --client-id cid --rotation strict)
printf '%s\n' "$rt" | mb import "$u"
ok $? "import"
mb token "$u"
ok $? "first token"
n=$(mockctl count "users.$u.refresh")
rt1=$(st refresh_token)
expire

# --- full ---
dd if=/dev/zero of="$mnt/fill" bs=4k > /dev/null 2>&1
mb token "$u"
rc=$?
check "full disk: fails (exit $rc)" test "$rc" != 0
check "full disk: no request made" \
	test "$(mockctl count "users.$u.refresh")" = "$n"
contains "full disk: says so, names the directory and the cause" \
	"$MB_TMP/err" "refresh not attempted.*$sd.*No space left on device"
check "full disk: the refresh token is unchanged" \
	test "$(st refresh_token)" = "$rt1"
rm -f "$mnt/fill"
check "full disk: no temporary file left" \
	test -z "$(ls "$sd" | grep 'tmp-')"
mb token "$u"
ok $? "space again: the grant works"
n=$(mockctl count "users.$u.refresh")
rt1=$(st refresh_token)
expire

# --- read-only ---
if mount -o remount,ro "$mnt" 2> /dev/null; then
	mb token "$u"
	rc=$?
	check "read-only: fails (exit $rc)" test "$rc" != 0
	check "read-only: no request made" \
		test "$(mockctl count "users.$u.refresh")" = "$n"
	contains "read-only: says so, names the directory and the cause" \
		"$MB_TMP/err" "refresh not attempted.*$sd.*Read-only file system"
	mount -o remount,rw "$mnt"
	check "read-only: the refresh token is unchanged" \
		test "$(st refresh_token)" = "$rt1"
	mb token "$u"
	ok $? "writable again: the grant works"
	check "read-only: no refresh failed at the provider" \
		test "$(mockctl count errors.invalid_grant)" = 0
else
	skip "read-only: cannot remount"
fi
done_testing

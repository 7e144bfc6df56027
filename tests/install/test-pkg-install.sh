#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages on a real Debian 12: install, upgrade, remove and
# purge with dpkg on this machine's own system seen through a private
# copy-on-write overlay, and the system they leave after each step (what
# Debian policy keeps and what it removes).  About 40 s on two cores
# (build ~20 s, dpkg and the checks ~20 s); no network at all.
#
# Design:
# - The packages are those tests/lib/pkg.sh pkg_build makes once per
#   build tree, from a clean copy of the tree, under a lock: whichever of
#   this test and test-pkg-build.sh comes first builds them, the other
#   waits for that build and uses it; alone, this test builds them.
# - The upgrade installs the same packages repacked with a higher version
#   (dpkg-deb -R, Version: V+mbtest1, dpkg-deb -b): dpkg runs the whole
#   upgrade path of the maintainer scripts (old prerm, new preinst, old
#   postrm, new postinst with the old version), which is what is tested;
#   a second build would cost ~30 s more and differ only in the version.
# - The system installed into is this Debian 12 itself, whose packages
#   tests/run installed (contrib/install-deps.sh: the runtime libraries,
#   adduser, sasl2-bin): its root file system as the lower layer of an
#   overlay whose upper layer is a tmpfs.  The whole test runs in a
#   private mount namespace (it re-executes itself under unshare), so the
#   tmpfs and the overlay exist only there and vanish with the test's
#   last process, whatever ends it (even SIGKILL): the host never sees a
#   mount, and every file dpkg, adduser or a maintainer script writes
#   lands in the tmpfs.  Nothing is downloaded (a test touches no address
#   outside 127.0.0.0/8), which a debootstrap would have needed.  The
#   chroot gets the device nodes it needs (in the upper layer) and no
#   /proc (dpkg, adduser, runuser, saslpluginviewer and the helper need
#   none).
# - Every command in the chroot, and the build, runs in a further private
#   PID namespace (unshare --kill-child and a parent-death signal end all
#   of its processes when the test ends); the long steps run in the
#   background and are waited for, so that INT or TERM ends the test at
#   once, and at_exit kills the running one and waits until all of its
#   processes are gone.
# - No service can start: systemd does not run in the chroot (no
#   /run/systemd/system there, so deb-systemd-invoke does nothing), and the
#   chroot gets a policy-rc.d that forbids every action (in the overlay).
#   The commands in the chroot get a clean environment (env -i).
# - The configuration is the administrator's (root:mailbearer 0640); the
#   state is made by the installed helper itself, as the system user
#   (runuser, as mailbearer.service advises), from a fake refresh token
#   (`import` asks no provider); `mailbearer status` as that user must read
#   both after install and after the upgrade.
# - The upgrades run in a chroot that looks like systemd's to the
#   maintainer scripts (/run/systemd/system, a systemctl in /usr/sbin that
#   only logs, a policy-rc.d that logs and forbids, then allows): the
#   postinst must ask to try-restart mailbearer.service, through
#   policy-rc.d, and nothing may be stopped before the new files are in.
# - Without systemd: doc/usage-serve.md's init-script recipe, as written
#   (start-stop-daemon, serve --user mailbearer, the socket in Postfix's
#   chroot with the group postfix), in the installed system with its own
#   /proc; root and the user postfix get the token, root's status and
#   doctor read the packaged layout.
# - Two rounds: install, upgrade, remove, purge with the configuration
#   still in /etc/mailbearer (kept); then install over the kept user, an
#   upgrade after the administrator disabled mailbearer.socket (it stays
#   disabled), and a purge straight from installed, /etc/mailbearer empty
#   (removed).
# - After the last purge, what the packages changed in the system (the
#   overlay's upper layer: path, type, mode, owner) must equal what was
#   there before the first install, apart from what adduser writes (the
#   kept user, policy 9.2.1) and dpkg's own records: what piuparts checks.
# - The host is checked at the end: no user or group mailbearer, the same
#   /etc/systemd/system, the same policy-rc.d, no mount under $MB_TMP in
#   the host's mount table.
#
# Skipped (skip_all, with the reason): not root; no private mount
# namespace, overlayfs or mknod here; /usr, /var or /etc a separate
# mount, or a symbolic link on the way to a file the test writes; not
# Debian 12; debhelper, unshare or setpriv missing;
# build dependencies missing; make distcheck (no debian/); the ASan run of
# tests/run (MB_SANITIZE=1).
if [ -z "${MB_PKG_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare --mount --propagation private true 2> /dev/null; then
	MB_PKG_NS=$(readlink /proc/self/ns/mnt) exec unshare --mount --propagation private sh "$0" "$@"
fi
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pkg.sh"

pkg_need
[ "$(id -u)" = 0 ] || skip_all "not root: mount, chroot, dpkg"
# A private mount namespace: this one differs from PID 1's (or, when
# that cannot be read, from the one the test started in), and the first
# mount below must not show in the host's mount table.
[ -r /proc/1/mountinfo ] || skip_all "cannot read the host's mount table"
ns_now=$(readlink /proc/self/ns/mnt)
ns_host=$(readlink /proc/1/ns/mnt 2> /dev/null || echo "$MB_PKG_NS")
[ -n "$ns_now" ] && [ "$ns_now" != "$ns_host" ] &&
	[ "$ns_now" != "${MB_PKG_NS:-}" ] ||
	skip_all "unshare: no private mount namespace"
for t in unshare setpriv chroot timeout mknod; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
unshare --mount --pid --fork true 2>/dev/null ||
	skip_all "unshare: no private mount and PID namespace here"

t_start=$(date +%s)
# phase NAME: records how long the phase up to here took (in diag).
t_last=$t_start
phase() {
	t_now=$(date +%s)
	diag "$1: $((t_now - t_last)) s"
	t_last=$t_now
}

# --- The host, as it is before the test ------------------------------
host_user() { getent passwd mailbearer; getent group mailbearer; }
host_units() { find /etc/systemd/system 2>/dev/null | sort | cksum; }
host_prc() {
	{ ls -lL --time-style=full-iso /usr/sbin/policy-rc.d
	  cat /usr/sbin/policy-rc.d; } 2>&1 | cksum
}
host_user_before=$(host_user)
host_units_before=$(host_units)
host_prc_before=$(host_prc)

# host_mounts_under DIR: the mount points under DIR in the host's mount
# table (that of PID 1), not in the test's private one.
host_mounts_under() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/1/mountinfo ||
		echo "cannot read /proc/1/mountinfo"
}

# in_ns CMD...: CMD in a private mount and PID namespace, ended (with all
# its processes) when the process that started it ends.
in_ns() {
	setpriv --pdeathsig KILL unshare --mount --propagation private \
		--pid --kill-child -- "$@"
}

# run_bg LOG CMD...: in_ns CMD in the background, output to LOG, waited
# for; returns its status.  A signal to the test interrupts the wait.
# (A simple command, not in_ns: $! is then unshare itself.)
ns_job=
run_bg() {
	rb_log=$1
	shift
	setpriv --pdeathsig KILL unshare --mount --propagation private \
		--pid --kill-child -- "$@" >"$rb_log" 2>&1 &
	ns_job=$!
	wait "$ns_job"
	rb_rc=$?
	ns_job=
	return $rb_rc
}
# ns_stop: kills the running namespace (if any) and waits, at most 10 s,
# until its first process, and so every process in it, is gone.
ns_stop() {
	[ -n "$ns_job" ] || return 0
	ns_init=$(cat "/proc/$ns_job/task/$ns_job/children" 2>/dev/null)
	kill -KILL "$ns_job" 2>/dev/null
	wait "$ns_job" 2>/dev/null
	for p in $ns_init; do
		i=0
		while [ $i -lt 100 ] && [ -e "/proc/$p" ] &&
			[ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
				cut -c1)" != Z ]; do
			sleep 0.1
			i=$((i + 1))
		done
	done
	ns_job=
}

# bail NAME LOG: a step the rest depends on failed: its log, and the end.
bail() {
	diag "$1 failed; the last lines of its output:"
	tail -n 40 "$2" | diag_stdin
	diag "total: $(($(date +%s) - t_start)) s"
	done_testing
	exit 1
}

# --- The system to install into ------------------------------------
sysdir=$MB_TMP/sys
root=$sysdir/root
# At exit, last added first: the chroot's processes are stopped, then
# the overlay and the tmpfs unmounted, then $MB_TMP removed (tap.sh).
at_exit "umount -l '$root'; umount -l '$sysdir'"
at_exit ns_stop
mkdir -p "$sysdir" &&
	mount -t tmpfs -o size=1g,mode=700 mbpkg "$sysdir" &&
	mkdir "$sysdir/upper" "$sysdir/work" "$root" &&
	mount -t overlay mbpkg -o "lowerdir=/,upperdir=$sysdir/upper" \
		-o "workdir=$sysdir/work" "$root"
rc=$?
[ $rc = 0 ] || skip_all "overlayfs over / cannot be mounted here"
if [ -n "$(host_mounts_under "$MB_TMP")" ]; then
	umount -l "$root"; umount -l "$sysdir"
	echo "Bail out! the test's mounts are in the host's mount table"
	exit 1
fi
# The lower layer is /'s file system alone: /usr and /var must be on it.
for d in /usr /var /etc; do
	[ "$(stat -c %d "$d")" = "$(stat -c %d /)" ] ||
		skip_all "$d is a separate mount: the overlay of / lacks it"
done
release=$(. "$root/etc/os-release" 2>/dev/null && echo "$ID $VERSION_ID")
[ "$release" = "debian 12" ] || skip_all "not Debian 12: $release"
# no_link PATH: no component of PATH in the overlay is a symbolic link:
# an absolute one would lead a write made from outside the chroot to
# the host's file.
no_link() {
	nl_p=$root
	for nl_c in $(echo "$1" | tr / ' '); do
		nl_p=$nl_p/$nl_c
		[ ! -L "$nl_p" ] || return 1
	done
}
for d in /dev /tmp /etc /usr/sbin; do
	no_link "$d" || skip_all "$d is a symbolic link on this system"
done
# The device nodes a minimal system has (debootstrap makes the same).
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" \
	"tty 5 0"; do
	set -- $n
	[ -e "$root/dev/$1" ] || mknod -m 666 "$root/dev/$1" c "$2" "$3" ||
		skip_all "cannot make device nodes here (mknod $1)"
done
fstypes=$(findmnt -n -o FSTYPE "$root")/$(findmnt -n -o FSTYPE "$sysdir")
check "this Debian 12 as an overlay (upper layer: a private tmpfs)" \
	test "$fstypes" = overlay/tmpfs
check "the host sees no mount under \$MB_TMP" \
	test -z "$(host_mounts_under "$MB_TMP")"

# No service may start, whatever a maintainer script asks.  (A link in
# its place is removed first: only the overlay's file is written.)
rm -f "$root/usr/sbin/policy-rc.d" &&
	printf '#!/bin/sh\n# mailbearer test-pkg-install.sh\nexit 101\n' \
	>"$root/usr/sbin/policy-rc.d" &&
	chmod 755 "$root/usr/sbin/policy-rc.d"
ok $? "the chroot's policy-rc.d forbids every start"
phase "overlay"

# --- Build -----------------------------------------------------------
pkg_build
rc=$?
ok $rc "dpkg-buildpackage -us -uc -b"
[ $rc = 0 ] || bail "dpkg-buildpackage" "$pkg_log"
[ -n "$plugin_deb" ] && [ -n "$helper_deb" ] ||
	bail "the package build" "$pkg_log"
ver=$(dpkg-deb -f "$helper_deb" Version)
upver=${ver%-*}
upver=${upver#*:}
phase "build"

# in_root CMD...: CMD in the chroot, in its own namespaces, with a clean
# environment.
in_root() {
	in_ns env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C DEBIAN_FRONTEND=noninteractive \
		timeout 120 chroot "$root" "$@"
}
# root_bg LOG CMD...: the same in the background (run_bg), with a timeout.
root_bg() {
	rt_log=$1
	shift
	run_bg "$rt_log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive \
		timeout 600 chroot "$root" "$@"
}

# The packages' dependencies and sasl2-bin are this machine's
# (contrib/install-deps.sh installs them); dpkg -i below fails, saying
# which, if one is missing.
yes_dep() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null |
	grep -q '^ii'; }
check "sasl2-bin (saslpluginviewer) installed" yes_dep sasl2-bin

mkdir -p "$root/tmp/debs"
cp "$plugin_deb" "$helper_deb" "$root/tmp/debs/"
pd=/tmp/debs/$(basename "$plugin_deb")
hd=/tmp/debs/$(basename "$helper_deb")

# What changed in the system (the overlay's upper layer), less what
# changes on any dpkg run: path, type and mode, numeric owner and group;
# a directory only if the lower layer (this machine's /) has none there.
snapshot() {
	(cd "$sysdir/upper" && find . \( -path ./dev -o -path ./tmp -o -path ./run \
		-o -path ./var/log -o -path ./var/cache \
		-o -path ./var/lib/dpkg -o -path ./var/lib/apt \) -prune \
		-o -printf '%y %p %M %U %G\n' |
		while read -r y p rest; do
			[ "$y" = d ] && [ -d "/${p#./}" ] && continue
			echo "$p $rest"
		done | sort) >"$1"
}

# st PATH: owner:group mode of PATH in the chroot.
st() { in_root stat -c '%U:%G %a' "$1" 2>&1; }
# status PKG: dpkg's abbreviated status and version of PKG in the chroot.
status() {
	in_root dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" \
		2>/dev/null | tr -s ' ' | sed '/^un/d'
}
# step NAME LOG CMD...: a dpkg (or other) command in the chroot; its
# output is shown if it fails.
step() {
	sp_name=$1
	sp_log=$2
	shift 2
	root_bg "$sp_log" "$@"
	sp_rc=$?
	ok $sp_rc "$sp_name"
	if [ $sp_rc != 0 ]; then
		diag "exit status $sp_rc; output:"
		tail -n 40 "$sp_log" | diag_stdin
	fi
	return $sp_rc
}
# is NAME WANT GOT: GOT equals WANT; otherwise both, and the last
# dpkg output ($log), are shown.
log=/dev/null
is() {
	if [ "$3" = "$2" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		diag "want: $2" "got:  $3" "last dpkg output ($log):"
		tail -n 20 "$log" | diag_stdin
	fi
}
# yes_ NAME CMD...: CMD succeeds (a test run on the host side, e.g. on
# the chroot's files); else the last dpkg output is shown.
yes_() {
	y_name=$1
	shift
	if "$@"; then ok 0 "$y_name"; else
		ok 1 "$y_name"
		diag "last dpkg output ($log):"
		tail -n 20 "$log" | diag_stdin
	fi
}
sysd=$root/etc/systemd/system
# audit: dpkg --audit in the chroot says nothing.
audit() {
	in_root dpkg --audit >"$MB_TMP/audit.log" 2>&1
	yes_ "purge: dpkg --audit finds nothing" \
		test $? = 0 -a ! -s "$MB_TMP/audit.log"
	[ ! -s "$MB_TMP/audit.log" ] || diag_stdin <"$MB_TMP/audit.log"
}
# units_left: every file of ours dpkg or deb-systemd-helper left in /etc
# and /var/lib/systemd (enablement links, masks, the helper's state).
units_left() {
	find "$root/etc/systemd" "$root/var/lib/systemd" \
		-name '*mailbearer*' 2>/dev/null | sed "s,^$root,,"
}
# plugins: the client mechanisms libsasl2 loads in the chroot, by plugin.
plugins() { in_root saslpluginviewer -c >"$MB_TMP/pv.log" 2>&1; }

# A host where mailbearer is installed (and serve runs) shows its
# packages, /etc/mailbearer, /var/lib/mailbearer, its units' links and
# the user in the overlay too: the system installed into is that host
# without them, purged in the overlay only (the host's files are its
# lower layer, never written).  Nothing of the host's configuration or
# state is read.
if [ -n "$(status mailbearer)$(status libsasl2-modules-mailbearer)" ]; then
	log=$MB_TMP/host-purge.log
	step "the host's own mailbearer purged in the overlay" "$log" \
		dpkg -P mailbearer libsasl2-modules-mailbearer
fi
rm -rf "$root/etc/mailbearer" "$root/var/lib/mailbearer" \
	"$root/run/mailbearer"
find "$root/etc/systemd" "$root/var/lib/systemd" -name '*mailbearer*' \
	-exec rm -rf {} + 2>/dev/null
if in_root getent passwd mailbearer >/dev/null; then
	in_root userdel mailbearer
fi
if in_root getent group mailbearer >/dev/null; then
	in_root groupdel mailbearer
fi
is "the system to install into has no mailbearer of the host's" "" \
	"$(status mailbearer)$(in_root getent passwd mailbearer)$(ls -d \
	"$root/etc/mailbearer" "$root/var/lib/mailbearer" 2>/dev/null)"
snapshot "$MB_TMP/files.before"

# --- Install ---------------------------------------------------------
log=$MB_TMP/install.log
step "dpkg -i both packages" "$log" dpkg -i "$pd" "$hd"
is "mailbearer installed" "ii $ver" "$(status mailbearer)"
is "libsasl2-modules-mailbearer installed" "ii $ver" \
	"$(status libsasl2-modules-mailbearer)"
user_line=$(in_root getent passwd mailbearer)
uid=$(echo "$user_line" | cut -d: -f3)
gid=$(echo "$user_line" | cut -d: -f4)
yes_ "a system user mailbearer (uid $uid < 1000)" \
	test -n "$uid" -a "${uid:-1000}" -lt 1000
is "its primary group is the group mailbearer" "mailbearer" \
	"$(in_root getent group "${gid:-x}" | cut -d: -f1)"
is "it cannot log in" "/usr/sbin/nologin" \
	"$(echo "$user_line" | cut -d: -f7)"
is "its home is /var/lib/mailbearer" "/var/lib/mailbearer" \
	"$(echo "$user_line" | cut -d: -f6)"
is "/var/lib/mailbearer mailbearer:mailbearer 0700" \
	"mailbearer:mailbearer 700" "$(st /var/lib/mailbearer)"
is "/etc/mailbearer root:mailbearer 0750" "root:mailbearer 750" \
	"$(st /etc/mailbearer)"
for u in /lib/systemd/system/mailbearer.service \
	/lib/systemd/system/mailbearer.socket \
	/lib/systemd/system/mailbearer-postfix.socket \
	/usr/lib/systemd/user/mailbearer.service \
	/usr/lib/systemd/user/mailbearer.socket; do
	yes_ "unit $u in place" test -f "$root$u"
done
is "mailbearer.socket enabled" /lib/systemd/system/mailbearer.socket \
	"$(readlink "$sysd/sockets.target.wants/mailbearer.socket")"
is "mailbearer-postfix.socket not enabled" "" \
	"$(find "$sysd" -name mailbearer-postfix.socket)"
is "mailbearer.service not enabled (the socket starts it)" "" \
	"$(find "$sysd" -name mailbearer.service)"
is "no user unit enabled" "" \
	"$(find "$root/etc/systemd/user" -name 'mailbearer*' 2>/dev/null)"
plugins
yes_ "saslpluginviewer -c ran" test $? = 0
for m in XOAUTH2 OAUTHBEARER; do
	if awk -v m="$m" '/^Plugin "/ { p = $2 }
		$0 ~ "SASL mechanism: " m "," && p == "\"mailbearer\"" {
			f = 1 }
		END { exit !f }' "$MB_TMP/pv.log"; then
		ok 0 "libsasl2 loads $m from our plugin"
	else
		ok 1 "libsasl2 loads $m from our plugin"
		diag_stdin <"$MB_TMP/pv.log"
	fi
done
is "mailbearer --version" "mailbearer $upver" \
	"$(in_root mailbearer --version 2>&1)"

# A configuration, as the administrator writes it (root:mailbearer
# 0640), and an account's state, made by the installed helper as the
# system user (runuser, as mailbearer.service says) from a fake refresh
# token: `import` stores it and asks no provider.
no_link /etc/mailbearer/mailbearer.conf &&
	(umask 027 && printf '[work]\nprovider = google\nuser = %s\n%s\n' \
	a@example.org 'client_id = 1-fake.apps.googleusercontent.com' \
	>"$root/etc/mailbearer/mailbearer.conf") &&
	in_root chgrp mailbearer /etc/mailbearer/mailbearer.conf
ok $? "the administrator's configuration put in place"
# as_mb CMD...: the installed helper, in the chroot, as the user mailbearer.
as_mb() {
	in_root runuser -u mailbearer -- mailbearer \
		--config /etc/mailbearer/mailbearer.conf "$@"
}
echo '1//0gFAKE-refresh-token-of-test-pkg-install' |
	as_mb import work >"$MB_TMP/import.log" 2>&1
rc=$?
ok $rc "mailbearer import, as the user mailbearer, stores the state"
[ $rc = 0 ] || diag_stdin <"$MB_TMP/import.log"
cp "$root/var/lib/mailbearer/work.json" "$MB_TMP/state.orig" 2>/dev/null
cp "$root/etc/mailbearer/mailbearer.conf" "$MB_TMP/conf.orig"
# usable WHAT: the service's user reads the configuration and the state.
usable() {
	as_mb status work >"$MB_TMP/status.log" 2>&1
	contains "$1: mailbearer status, as the user mailbearer, reads both" \
		"$MB_TMP/status.log" '^work: google, refresh_token: ok'
}
usable "install"
# verify WHAT: dpkg --verify finds every packaged file as shipped.
verify() {
	in_root dpkg --verify mailbearer libsasl2-modules-mailbearer \
		>"$MB_TMP/verify.log" 2>&1
	yes_ "$1: dpkg --verify: the packages' files as shipped" \
		test $? = 0 -a ! -s "$MB_TMP/verify.log"
	[ ! -s "$MB_TMP/verify.log" ] || diag_stdin <"$MB_TMP/verify.log"
}
verify "install"

# kept WHAT: the state, the configuration and their modes, as placed.
kept() {
	yes_ "$1: state file unchanged" \
		cmp -s "$MB_TMP/state.orig" "$root/var/lib/mailbearer/work.json"
	is "$1: state file mailbearer:mailbearer 0600" \
		"mailbearer:mailbearer 600" \
		"$(st /var/lib/mailbearer/work.json)"
	is "$1: /var/lib/mailbearer mailbearer:mailbearer 0700" \
		"mailbearer:mailbearer 700" "$(st /var/lib/mailbearer)"
	yes_ "$1: configuration unchanged" cmp -s "$MB_TMP/conf.orig" \
		"$root/etc/mailbearer/mailbearer.conf"
	is "$1: configuration root:mailbearer 0640" "root:mailbearer 640" \
		"$(st /etc/mailbearer/mailbearer.conf)"
	is "$1: /etc/mailbearer root:mailbearer 0750" "root:mailbearer 750" \
		"$(st /etc/mailbearer)"
	is "$1: the user mailbearer as it was" "$user_line" \
		"$(in_root getent passwd mailbearer)"
}
phase "install"

# --- Upgrade ---------------------------------------------------------
newver=$ver+mbtest1
yes_ "$newver is higher than $ver" \
	dpkg --compare-versions "$newver" gt "$ver"
for d in "$plugin_deb" "$helper_deb"; do
	b=$(basename "$d" .deb)
	mkdir -p "$MB_TMP/re"
	dpkg-deb -R "$d" "$MB_TMP/re/$b" &&
		sed -i "s/^Version: .*/Version: $newver/" \
			"$MB_TMP/re/$b/DEBIAN/control" &&
		dpkg-deb -b "$MB_TMP/re/$b" "$root/tmp/debs/new-$b.deb" \
			>/dev/null
	ok $? "$b repacked as version $newver"
done
# The upgrade as systemd would see it (the maintainer scripts ask systemd
# only when /run/systemd/system exists): a systemctl that only logs
# (/usr/sbin comes first in PATH; the host has none there) and a
# policy-rc.d that logs what it is asked and forbids it.  Both go before
# the remove, which must find the system as it was.
units_as_systemd() {
	mkdir -p "$root/run/systemd/system" &&
	printf '#!/bin/sh\necho "systemctl $*" >> /tmp/units.log\nexit 0\n' \
		>"$root/usr/sbin/systemctl" && chmod 755 "$root/usr/sbin/systemctl" &&
	printf '#!/bin/sh\n# mailbearer test-pkg-install.sh\necho "policy-rc.d $*" >> /tmp/units.log\nexit %s\n' \
		"$1" >"$root/usr/sbin/policy-rc.d" && : >"$root/tmp/units.log"
}
units_no_systemd() {
	rm -rf "$root/run/systemd" "$root/usr/sbin/systemctl" &&
	printf '#!/bin/sh\n# mailbearer test-pkg-install.sh\nexit 101\n' \
		>"$root/usr/sbin/policy-rc.d"
}
units_as_systemd 101
ok $? "the chroot as systemd would have it (a logging systemctl, policy-rc.d 101)"
log=$MB_TMP/upgrade.log
step "dpkg -i: upgrade both packages to $newver" "$log" dpkg --debug=2 \
	-i "/tmp/debs/new-$(basename "$plugin_deb")" \
	"/tmp/debs/new-$(basename "$helper_deb")"
is "mailbearer upgraded" "ii $newver" "$(status mailbearer)"
is "libsasl2-modules-mailbearer upgraded" "ii $newver" \
	"$(status libsasl2-modules-mailbearer)"
# ere STRING: STRING as an ERE that matches it literally.
ere() { printf '%s\n' "$1" | sed 's/[].+*?^$(){}|[\\]/\\&/g'; }
contains "the new postinst ran as: configure $ver" "$log" \
	"mailbearer\\.postinst \\( configure $(ere "$ver") \\)\$"
# (no preinst: nothing is stopped before the upgrade, test-pkg-build.sh)
grep -v '^D0' "$log" >"$MB_TMP/upgrade.msgs"
lacks "upgrade: no warning or error" "$MB_TMP/upgrade.msgs" \
	'[Ww]arning|[Ee]rror|[Ff]ail'
# The old serve keeps the old, deleted binary until restarted: the
# postinst asks to restart a running mailbearer.service (try-restart
# starts none), through policy-rc.d, which forbade it here.
contains "upgrade: the postinst asks policy-rc.d to try-restart mailbearer.service" \
	"$root/tmp/units.log" '^policy-rc\.d mailbearer\.service try-restart$'
lacks "... and, forbidden, does not ask systemctl" "$root/tmp/units.log" \
	'^systemctl .*(try-restart|restart|start)'
lacks "... and nothing was stopped before the upgrade" "$root/tmp/units.log" \
	'^policy-rc\.d .* stop$'
units_no_systemd
ok $? "the chroot without systemd again"
kept "upgrade"
usable "upgrade"
verify "upgrade"
is "upgrade: mailbearer.socket still enabled" \
	/lib/systemd/system/mailbearer.socket \
	"$(readlink "$sysd/sockets.target.wants/mailbearer.socket")"
is "upgrade: mailbearer-postfix.socket still not enabled" "" \
	"$(find "$sysd" -name mailbearer-postfix.socket)"
plugins
contains "upgrade: libsasl2 still loads XOAUTH2" "$MB_TMP/pv.log" \
	'SASL mechanism: XOAUTH2,'
phase "upgrade"

# --- Remove ----------------------------------------------------------
log=$MB_TMP/remove.log
step "dpkg -r both packages" "$log" \
	dpkg -r mailbearer libsasl2-modules-mailbearer
is "remove: mailbearer's configuration kept (rc)" "rc $newver" \
	"$(status mailbearer)"
is "remove: libsasl2-modules-mailbearer gone (it has no conffiles)" "" \
	"$(status libsasl2-modules-mailbearer)"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in /usr/bin/mailbearer "/usr/lib/$ma/sasl2/libmailbearer.so" \
	/lib/systemd/system/mailbearer.socket \
	/usr/share/man/man1/mailbearer.1.gz; do
	yes_ "remove: $f gone" test ! -e "$root$f"
done
plugins
lacks "remove: libsasl2 no longer loads our plugin" "$MB_TMP/pv.log" \
	'^Plugin "mailbearer"'
kept "remove"
is "remove: the enablement kept until purge" \
	/lib/systemd/system/mailbearer.socket \
	"$(readlink "$sysd/sockets.target.wants/mailbearer.socket")"
phase "remove"

# --- Purge, the administrator's configuration still there ------------
log=$MB_TMP/purge.log
step "dpkg -P mailbearer" "$log" dpkg -P mailbearer
is "purge: mailbearer not installed" "" "$(status mailbearer)"
yes_ "purge: /var/lib/mailbearer (the state) removed" \
	test ! -e "$root/var/lib/mailbearer"
yes_ "purge: /etc/mailbearer kept, with the administrator's file" \
	cmp -s "$MB_TMP/conf.orig" "$root/etc/mailbearer/mailbearer.conf"
is "purge: no enablement link, mask or helper state left" "" \
	"$(units_left)"
is "purge: the user mailbearer kept (policy 9.2.1)" "$user_line" \
	"$(in_root getent passwd mailbearer)"
is "purge: the group mailbearer kept" "mailbearer" \
	"$(in_root getent group mailbearer | cut -d: -f1)"
audit
phase "purge"

# --- Again: install over the kept user, then purge from installed -----
rm -f "$root/etc/mailbearer/mailbearer.conf"
log=$MB_TMP/reinstall.log
step "reinstall: dpkg -i both packages (the user exists)" "$log" \
	dpkg -i "$pd" "$hd"
is "reinstall: the same user, no second one" "$user_line" \
	"$(in_root getent passwd mailbearer)"
is "reinstall: /var/lib/mailbearer mailbearer:mailbearer 0700" \
	"mailbearer:mailbearer 700" "$(st /var/lib/mailbearer)"
is "reinstall: /etc/mailbearer root:mailbearer 0750" \
	"root:mailbearer 750" "$(st /etc/mailbearer)"
is "reinstall: mailbearer.socket enabled" \
	/lib/systemd/system/mailbearer.socket \
	"$(readlink "$sysd/sockets.target.wants/mailbearer.socket")"
# --- Without systemd: doc/usage-serve.md's recipe, as written ---------
# Root starts serve with start-stop-daemon, --user mailbearer, the system
# socket and the one in Postfix's chroot (group postfix); serve runs as
# mailbearer, reads the configuration (root:mailbearer 0640) and the
# state, and answers root on the system socket and the user postfix on
# the chroot's; root's status and doctor read the packaged layout.  The
# chroot gets its own /proc (in the step's PID namespace), which
# start-stop-daemon and the checks read.
if in_root getent passwd postfix >/dev/null &&
	in_root getent group postfix >/dev/null &&
	[ -d "$root/var/spool/postfix" ] && command -v python3 >/dev/null; then
	(umask 027 && printf '[work]\nprovider = google\nuser = %s\n%s\n%s\n' \
		a@example.org 'client_id = 1-fake.apps.googleusercontent.com' \
		'allow = postfix' >"$root/etc/mailbearer/mailbearer.conf") &&
		in_root chgrp mailbearer /etc/mailbearer/mailbearer.conf
	ok $? "recipe: the administrator's configuration (allow = postfix)"
	printf '{"refresh_token": "1//0gFAKE-refresh-token-of-test-pkg-install", "access_token": "ya29.FAKE-access-token-of-test-pkg-install", "expires_at": %s}\n' \
		"$(($(date +%s) + 3600))" | as_mb import work \
		>"$MB_TMP/import2.log" 2>&1
	ok $? "recipe: the tokens imported as mailbearer"
	cp "$top_srcdir/tests/fixtures/ipc-client.py" "$root/tmp/ipc-client.py"
	spool_run=$([ -d "$root/var/spool/postfix/run" ] && echo kept)
	cp "$top_srcdir/tests/fixtures/pkg-serve-recipe.sh" "$root/tmp/recipe.sh"
	run_bg "$MB_TMP/recipe.log" sh -c 'mount -t proc proc "$1/proc" &&
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C timeout 120 chroot "$1" sh /tmp/recipe.sh' sh "$root"
	rl=$MB_TMP/recipe.log
	contains "recipe: start-stop-daemon starts serve --user mailbearer" \
		"$rl" '^start: 0$'
	contains "recipe: serve runs as mailbearer" "$rl" "^Uid: $uid $uid $uid $uid\$"
	contains "... with mailbearer's group" "$rl" "^Gid: $gid $gid $gid $gid\$"
	contains "recipe: the system socket root's, mode 0666" "$rl" \
		'^stat /run/mailbearer/socket root:root 666$'
	contains "recipe: the chroot's socket group postfix, mode 0660" "$rl" \
		'^stat /var/spool/postfix/run/mailbearer/socket root:postfix 660$'
	contains "recipe: root gets the token on the system socket" "$rl" \
		'^root: OK ya29\.FAKE-access-token-of-test-pkg-install$'
	contains "recipe: postfix gets it on the chroot's socket" "$rl" \
		'^postfix: OK ya29\.FAKE-access-token-of-test-pkg-install$'
	contains "recipe: root's status of the packaged account exits 0" "$rl" \
		'^status: 0$'
	contains "... and says ok" "$root/tmp/status.out" '^work: google, refresh_token: ok'
	lacks "recipe: root's doctor finds the modes and the state right" \
		"$root/tmp/doctor.out" '^FAIL (modes|state|socket|token)'
	contains "... the socket" "$root/tmp/doctor.out" '^PASS socket: \[work\]'
	contains "recipe: start-stop-daemon stops it" "$rl" '^stop: 0$'
	lacks "... and it removed its sockets and pid file" "$rl" '^left: '
	spool=$root/var/spool/postfix
	rm -rf "$spool/run/mailbearer" "$root/tmp/status.out" \
		"$root/tmp/doctor.out" "$root/tmp/recipe.sh" "$root/tmp/ipc-client.py"
	[ -n "$spool_run" ] || rmdir "$root/var/spool/postfix/run"
	rm -f "$root/etc/mailbearer/mailbearer.conf" \
		"$root/var/lib/mailbearer/work.json" "$root/var/lib/mailbearer/work.lock"
else
	skip "recipe: no user and group postfix, /var/spool/postfix or python3 here"
fi

# The administrator disables the socket (what systemctl disable does
# here); an upgrade must not enable it again.
rm -f "$sysd/sockets.target.wants/mailbearer.socket"
units_as_systemd 0
log=$MB_TMP/upgrade2.log
step "upgrade after the administrator disabled mailbearer.socket" "$log" \
	dpkg -i "/tmp/debs/new-$(basename "$plugin_deb")" \
	"/tmp/debs/new-$(basename "$helper_deb")"
contains "upgrade, policy-rc.d allowing: systemctl try-restart mailbearer.service" \
	"$root/tmp/units.log" '^systemctl try-restart mailbearer\.service$'
units_no_systemd
ok $? "the chroot without systemd again"
is "upgrade: mailbearer.socket still disabled" "" \
	"$(find "$sysd" -name mailbearer.socket)"
log=$MB_TMP/purge2.log
step "dpkg -P both packages (installed, not removed first)" "$log" \
	dpkg -P mailbearer libsasl2-modules-mailbearer
yes_ "purge: /etc/mailbearer, empty, removed" \
	test ! -e "$root/etc/mailbearer"
yes_ "purge: /var/lib/mailbearer removed" \
	test ! -e "$root/var/lib/mailbearer"
is "purge: no enablement link, mask or helper state left" "" \
	"$(units_left)"
audit
# What adduser leaves: the user in passwd, group, shadow, gshadow and
# their backups (*-), and the lock file of those (.pwd.lock).
snapshot "$MB_TMP/files.after"
diff "$MB_TMP/files.before" "$MB_TMP/files.after" |
	grep '^[<>]' |
	grep -Ev '^[<>] \./etc/((passwd|group|shadow|gshadow)-?|\.pwd\.lock) ' \
	>"$MB_TMP/files.diff"
is "purge: the system's files as before the first install" "" \
	"$(cat "$MB_TMP/files.diff")"
phase "reinstall and purge"

# --- The host --------------------------------------------------------
is "host: no user or group mailbearer made" "$host_user_before" \
	"$(host_user)"
is "host: /etc/systemd/system as it was" "$host_units_before" \
	"$(host_units)"
is "host: policy-rc.d as it was" "$host_prc_before" "$(host_prc)"
is "host: no mount under \$MB_TMP" "" "$(host_mounts_under "$MB_TMP")"
diag "total: $(($(date +%s) - t_start)) s"
done_testing

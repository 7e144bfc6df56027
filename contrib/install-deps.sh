#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every Debian 12 package mailbearer needs to build, test and run
# its demo.  Run as root.  Packaged services (Dovecot, Postfix, etcd) are kept
# from starting while apt runs: the tests start private instances of
# their own.  For that the script installs a policy-rc.d that forbids
# every service action, and removes it again however the script ends
# (success, failure, Ctrl-C, SIGTERM, SIGHUP); an existing policy-rc.d is
# used as it is and never touched.  Only SIGKILL can leave ours behind: it
# carries a marker line, and the next run removes it when the process that
# wrote it is gone.
#
# --check only says which packages are missing (exit 1 if any), and
# installs nothing: no apt, no network.
# MB_POLICY_RC_D overrides the path of policy-rc.d (for the tests).
set -eu
policy=${MB_POLICY_RC_D:-/usr/sbin/policy-rc.d}
marker="# installed by mailbearer install-deps.sh, pid"
pkgs="autoconf automake libtool pkg-config make gcc libc6-dev
 libsasl2-dev libsasl2-modules sasl2-bin libcurl4-openssl-dev libjson-c-dev
 libssl-dev
 debhelper lintian adduser
 dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond
 postfix cyrus-clients isync msmtp mutt openssl python3 ca-certificates procps
 curl etcd-server etcd-client
 valgrind libsasl2-modules-kdexoauth2
 clang libclang-rt-14-dev"

# The pid in policy's marker line, or nothing if it is not ours.
policy_owner() {
	sed -n "s/^$marker \\([0-9][0-9]*\\)\$/\\1/p" "$policy" 2>/dev/null ||
		true
}

# Removes policy-rc.d if this process wrote it.
remove_policy() {
	if [ "$(policy_owner)" = "$$" ]; then
		rm -f "$policy"
	fi
}

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'ok installed' || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "install-deps: missing packages:$missing"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root" >&2
	exit 1
fi

# A policy-rc.d left by a run that was killed with SIGKILL.
owner=$(policy_owner)
if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
	echo "install-deps: removing $policy left by an interrupted run" >&2
	rm -f "$policy"
fi

# The trap is set before the file exists, and the marker decides what is
# removed, so no moment exists where ours could be left or another removed.
trap remove_policy EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# Keep apt from starting the packaged daemons (exit 101 = action forbidden).
# noclobber: created only if absent, atomically.
if (set -C; printf '#!/bin/sh\n%s %s\nexit 101\n' "$marker" "$$" \
	> "$policy") 2>/dev/null; then
	chmod 755 "$policy"
elif [ ! -e "$policy" ]; then
	echo "install-deps: cannot create $policy" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing

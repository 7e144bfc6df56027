#!/bin/sh
# Install every Debian 12 package mailbearer needs to build, test and run
# its demo.  Run as root.  Packaged services (Dovecot, Postfix) are kept
# from starting: the tests start private instances of their own.
set -eu
pkgs="autoconf automake libtool pkg-config make gcc libc6-dev
 libsasl2-dev libsasl2-modules sasl2-bin libcurl4-openssl-dev libjson-c-dev
 dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond
 postfix cyrus-clients isync openssl python3 ca-certificates procps
 valgrind libsasl2-modules-kdexoauth2"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root" >&2
	exit 1
fi
# Keep apt from starting the packaged daemons (exit 101 = action forbidden).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing

# SPDX-License-Identifier: MIT
# Sourced by automake's AM_TESTS_ENVIRONMENT (and by tests/lib/tap.sh when a test
# runs by hand).  Needs top_srcdir and top_builddir (absolute).
#
# libsasl2 reads SASL_PATH (2.1.28; SASL_PLUGINDIR on upstream master) as a
# *replacement* of its plugin directory, so we point it at our build tree
# plus a directory of links to the system's plugins minus every other
# XOAUTH2/OAUTHBEARER provider (Debian's libkdexoauth2, sasl-xoauth2, ...),
# so that the tests exercise our plugin and nothing else.
mb_sysdir=$(pkg-config --variable=libdir libsasl2 2>/dev/null)/sasl2
MB_SYSPLUGINS="$top_builddir/tests/sysplugins"
if [ ! -d "$MB_SYSPLUGINS" ]; then
	mb_tmp="$MB_SYSPLUGINS.$$"
	mkdir -p "$mb_tmp"
	for mb_so in "$mb_sysdir"/*.so; do
		[ -e "$mb_so" ] || continue
		case $(basename "$mb_so") in
		*xoauth2*|*oauthbearer*|*oauth*|libmailbearer*) continue ;;
		esac
		ln -s "$mb_so" "$mb_tmp/"
	done
	mv "$mb_tmp" "$MB_SYSPLUGINS" 2>/dev/null || rm -rf "$mb_tmp"
fi
SASL_PATH="$top_builddir/plugin/.libs:$MB_SYSPLUGINS"
SASL_PLUGINDIR=$SASL_PATH
MB_PLUGIN_SO="$top_builddir/plugin/.libs/libmailbearer.so"
MB_HELPER="$top_builddir/tokenhelper/mailbearer"
export SASL_PATH SASL_PLUGINDIR MB_PLUGIN_SO MB_HELPER MB_SYSPLUGINS

# python3, resolved once: Debian's own (/usr/bin/python3) before whatever
# PATH finds first (a version manager's shim costs about a second a call
# on a loaded machine).  $MB_PYTHON names it, and tests/bin (first in
# PATH) holds a python3 link to it, so that `python3 ...` in a test and
# `#!/usr/bin/env python3` in a fixture run the same one.
if [ -z "${MB_PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then
		MB_PYTHON=/usr/bin/python3
	else
		MB_PYTHON=$(command -v python3 2>/dev/null) || MB_PYTHON=python3
	fi
fi
mb_bin=$top_builddir/tests/bin
if [ "$(readlink "$mb_bin/python3" 2>/dev/null)" != "$MB_PYTHON" ] &&
    mkdir -p "$mb_bin" 2>/dev/null; then
	ln -sfn "$MB_PYTHON" "$mb_bin/python3.$$" &&
		mv -f "$mb_bin/python3.$$" "$mb_bin/python3" 2>/dev/null
	rm -f "$mb_bin/python3.$$"
fi
case ":$PATH:" in
*":$mb_bin:"*) ;;
*) PATH=$mb_bin:$PATH ;;
esac
export MB_PYTHON PATH
unset mb_sysdir mb_tmp mb_so mb_bin

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
unset mb_sysdir mb_tmp mb_so

#!/bin/sh
# SPDX-License-Identifier: MIT
# The built plugin loads through libsasl2 (saslpluginviewer -c lists both
# mechanisms from "mailbearer"), exports only sasl_client_plug_init, and
# wins over Debian's kdexoauth2 when both are on the plugin path, in
# either directory order (the choice comes from the security flags, not
# from load order).
. "$top_srcdir/tests/lib/tap.sh"

need saslpluginviewer
not_sanitized saslpluginviewer
built "$MB_PLUGIN_SO"
out=$MB_TMP/viewer.out
SASL_PATH=$(dirname "$MB_PLUGIN_SO") saslpluginviewer -c > "$out" 2>&1
# "Plugin "NAME" [loaded]" is followed by its "SASL mechanism: MECH" line.
awk '/^Plugin "/ { split($0, a, "\""); p = a[2] }
     /SASL mechanism:/ { m = $3; sub(/,$/, "", m); print p ":" m }' \
	"$out" > "$MB_TMP/pairs"
contains "saslpluginviewer: XOAUTH2 from plugin mailbearer" \
	"$MB_TMP/pairs" '^mailbearer:XOAUTH2$'
contains "saslpluginviewer: OAUTHBEARER from plugin mailbearer" \
	"$MB_TMP/pairs" '^mailbearer:OAUTHBEARER$'
contains "both are usable (\"properly configured\")" "$out" \
	'^  EXTERNAL XOAUTH2 OAUTHBEARER'
# Only what is true of a bearer token (doc/plugin.md, "Security flags"):
# never NO_PLAINTEXT, or Postfix's "noplaintext" would let the token out
# on a session without TLS.
awk '/^Plugin "/ { split($0, a, "\""); p = a[2] }
     /security flags:/ && p == "mailbearer" { print $3 }' \
	"$out" > "$MB_TMP/flags"
check "both mechanisms claim NO_ANONYMOUS|NO_DICTIONARY|PASS_CREDENTIALS" \
	test "$(sort -u "$MB_TMP/flags" | tr '\n' ' ')" = \
	"NO_ANONYMOUS|NO_DICTIONARY|PASS_CREDENTIALS "
lacks "neither claims NO_PLAINTEXT" "$MB_TMP/flags" 'NO_PLAINTEXT'

if command -v nm >/dev/null 2>&1; then
	nm -D --defined-only "$MB_PLUGIN_SO" |
		awk '$2 ~ /^[TDBRVW]$/ {print $3}' > "$MB_TMP/syms"
	check "exports exactly sasl_client_plug_init" \
		test "$(cat "$MB_TMP/syms")" = sasl_client_plug_init
	[ "$(cat "$MB_TMP/syms")" = sasl_client_plug_init ] ||
		diag "exported: $(tr '\n' ' ' < "$MB_TMP/syms")"
	nm -D --undefined-only "$MB_PLUGIN_SO" > "$MB_TMP/undef"
	lacks "calls no libsasl2 function directly" "$MB_TMP/undef" \
		' (sasl_|_sasl_)'
else
	skip "nm not installed"
	skip "nm not installed"
fi

# kdexoauth2 (libsasl2-modules-kdexoauth2) and ours together, in both
# directory orders: tests/unit/test-sasl-client --which-xoauth2 starts XOAUTH2
# and tells from the password prompt which plugin libsasl2 picked.
kde=$(pkg-config --variable=libdir libsasl2 2>/dev/null)/sasl2/libkdexoauth2.so
if [ ! -e "$kde" ]; then
	for i in 1 2 3 4 5; do
		skip "libsasl2-modules-kdexoauth2 not installed"
	done
else
	mkdir "$MB_TMP/kde"
	ln -s "$kde" "$MB_TMP/kde/"
	ours=$(dirname "$MB_PLUGIN_SO")
	for order in "$ours:$MB_TMP/kde" "$MB_TMP/kde:$ours"; do
		SASL_PATH=$order "$top_builddir/tests/unit/test-sasl-client" \
			--which-xoauth2 > "$MB_TMP/which" 2>/dev/null
		contains "ours chosen over kdexoauth2 (SASL_PATH $order)" \
			"$MB_TMP/which" '^chosen: mailbearer$'
	done
	# Both in one directory, linked in both orders: libsasl2 loads
	# a directory in readdir order, which on most file systems follows
	# neither the names nor, reliably, the creation order.
	for first in ours kde; do
		d=$MB_TMP/one-$first
		mkdir "$d"
		if [ $first = ours ]; then
			ln -s "$MB_PLUGIN_SO" "$d/"
			ln -s "$kde" "$d/"
		else
			ln -s "$kde" "$d/"
			ln -s "$MB_PLUGIN_SO" "$d/"
		fi
		SASL_PATH=$d "$top_builddir/tests/unit/test-sasl-client" \
			--which-xoauth2 > "$MB_TMP/which" 2>/dev/null
		contains "ours chosen over kdexoauth2 (one directory, $first \
linked first)" "$MB_TMP/which" '^chosen: mailbearer$'
	done
	# The probe itself tells the plugins apart (kdexoauth2 writes
	# chatter to stderr: dropped).
	SASL_PATH=$MB_TMP/kde "$top_builddir/tests/unit/test-sasl-client" \
		--which-xoauth2 > "$MB_TMP/which" 2>/dev/null
	contains "kdexoauth2 alone is recognised as another plugin" \
		"$MB_TMP/which" '^chosen: other$'
fi
done_testing

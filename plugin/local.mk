# SPDX-License-Identifier: MIT
# The libsasl2 client plugin.  Everything but the exported entry point is
# in a convenience library so that the unit tests link the same objects.
# The plugin never links libsasl2: everything goes through sasl_utils_t,
# and -Wl,-z,defs ($(LINK_DEFS)) turns a direct call into a link error.
noinst_LTLIBRARIES += plugin/libmbplugin.la
plugin_libmbplugin_la_SOURCES = \
	plugin/mech.c plugin/mech.h \
	plugin/creds.c plugin/creds.h \
	plugin/xoauth2-msg.c plugin/xoauth2-msg.h \
	plugin/token-source.c plugin/token-source.h \
	plugin/password-advice.c plugin/password-advice.h \
	plugin/helper-client.c plugin/helper-client.h \
	plugin/options.c plugin/options.h \
	plugin/sasl-log.c plugin/sasl-log.h
plugin_libmbplugin_la_CPPFLAGS = $(AM_CPPFLAGS)
plugin_libmbplugin_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)

plugin_LTLIBRARIES += plugin/libmailbearer.la
plugin_libmailbearer_la_SOURCES = plugin/init.c
plugin_libmailbearer_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
plugin_libmailbearer_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^sasl_client_plug_init$$' $(LINK_DEFS)
plugin_libmailbearer_la_LIBADD = plugin/libmbplugin.la common/libcommon.la

# libsasl2 needs only the .so; a stray libtool archive beside it is read by
# its loader and confuses package managers (Debian drops .la files too).
install-data-hook: install-plugin-drop-la
install-plugin-drop-la:
	rm -f '$(DESTDIR)$(plugindir)/libmailbearer.la'
# libtool's uninstall finds the .so through the .la, which is gone.
uninstall-hook: uninstall-plugin-so
uninstall-plugin-so:
	rm -f '$(DESTDIR)$(plugindir)/libmailbearer.so'
.PHONY: install-plugin-drop-la uninstall-plugin-so

EXTRA_DIST += doc/plugin.md

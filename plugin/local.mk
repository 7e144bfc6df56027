plugin_LTLIBRARIES += plugin/libmailbearer.la
plugin_libmailbearer_la_SOURCES = plugin/init.c
plugin_libmailbearer_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
plugin_libmailbearer_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^sasl_client_plug_init$$' $(LINK_DEFS)
plugin_libmailbearer_la_LIBADD = common/libcommon.la

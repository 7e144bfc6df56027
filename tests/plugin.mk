# Tests of the libsasl2 plugin: pure units, the built .so through the real
# libsasl2, and the loading/exports check.
check_PROGRAMS += tests/test-xoauth2-msg tests/test-token-source \
	tests/test-sasl-client tests/test-helper-client
TESTS += tests/test-xoauth2-msg tests/test-token-source \
	tests/test-sasl-client tests/test-helper-client tests/test-load.sh
EXTRA_DIST += tests/test-load.sh

# Unit tests of the plugin's modules link its convenience library.
PLUGIN_UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugin \
	-I$(top_srcdir)/tests
PLUGIN_UNIT_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
PLUGIN_UNIT_LDADD = plugin/libmbplugin.la common/libcommon.la tests/libtap.la

tests_test_xoauth2_msg_SOURCES = tests/test-xoauth2-msg.c
tests_test_xoauth2_msg_CPPFLAGS = $(PLUGIN_UNIT_CPPFLAGS)
tests_test_xoauth2_msg_CFLAGS = $(PLUGIN_UNIT_CFLAGS)
tests_test_xoauth2_msg_LDADD = $(PLUGIN_UNIT_LDADD)

tests_test_token_source_SOURCES = tests/test-token-source.c
tests_test_token_source_CPPFLAGS = $(PLUGIN_UNIT_CPPFLAGS)
tests_test_token_source_CFLAGS = $(PLUGIN_UNIT_CFLAGS)
tests_test_token_source_LDADD = $(PLUGIN_UNIT_LDADD)

tests_test_helper_client_SOURCES = tests/test-helper-client.c
tests_test_helper_client_CPPFLAGS = $(PLUGIN_UNIT_CPPFLAGS)
tests_test_helper_client_CFLAGS = $(PLUGIN_UNIT_CFLAGS)
tests_test_helper_client_LDADD = $(PLUGIN_UNIT_LDADD)
# send() fails on demand (a connection serve refused at accept)
tests_test_helper_client_LDFLAGS = -Wl,--wrap=send

# Loads the built plugin through SASL_PATH; links libsasl2, not the plugin.
tests_test_sasl_client_SOURCES = tests/test-sasl-client.c
tests_test_sasl_client_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
tests_test_sasl_client_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_test_sasl_client_LDADD = tests/libtap.la $(SASL_LIBS)

# Units of common/, what the plugin and the helper share: base64, the
# initial responses, the account-name rule and the token syntax.
check_PROGRAMS += tests/test-common-units
TESTS += tests/test-common-units
tests_test_common_units_SOURCES = tests/test-common-units.c
tests_test_common_units_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
tests_test_common_units_LDADD = tests/libtap.la common/libcommon.la

# SPDX-License-Identifier: MIT
# Unit tests in C (TAP through tests/lib/tap.h): one module at a time,
# linked against its convenience library; no server, no network.

# common/: what the plugin and the helper share (base64, the initial
# responses, the account-name rule, the token syntax, the wire protocol),
# which socket of serve is used (test-serve-socket),
# and mb_strerror with the GNU strerror_r of this build and, built again
# with MB_ERRSTR_TEST_XSI, with the XSI one.
UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/lib
check_PROGRAMS += tests/unit/test-common-units tests/unit/test-ipc-proto \
	tests/unit/test-serve-socket \
	tests/unit/test-leak-errstr tests/unit/test-leak-errstr-xsi
TESTS += tests/unit/test-common-units tests/unit/test-ipc-proto \
	tests/unit/test-serve-socket \
	tests/unit/test-leak-errstr tests/unit/test-leak-errstr-xsi
tests_unit_test_common_units_SOURCES = tests/unit/test-common-units.c
tests_unit_test_common_units_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_common_units_LDADD = tests/lib/libtap.la common/libcommon.la
tests_unit_test_serve_socket_SOURCES = tests/unit/test-serve-socket.c
tests_unit_test_serve_socket_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_serve_socket_LDADD = tests/lib/libtap.la common/libcommon.la
tests_unit_test_ipc_proto_SOURCES = tests/unit/test-ipc-proto.c
tests_unit_test_ipc_proto_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_ipc_proto_LDADD = tests/lib/libtap.la common/libcommon.la
tests_unit_test_leak_errstr_SOURCES = tests/unit/test-leak-errstr.c
tests_unit_test_leak_errstr_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_leak_errstr_LDADD = common/libcommon.la tests/lib/libtap.la
tests_unit_test_leak_errstr_xsi_SOURCES = tests/unit/test-leak-errstr.c \
	common/errstr.c
tests_unit_test_leak_errstr_xsi_CPPFLAGS = $(UNIT_CPPFLAGS) \
	-DMB_ERRSTR_TEST_XSI
tests_unit_test_leak_errstr_xsi_LDADD = tests/lib/libtap.la

# plugin/: the modules through libmbplugin, and the built .so loaded
# through the real libsasl2 (SASL_PATH; links libsasl2, not the plugin).
check_PROGRAMS += tests/unit/test-xoauth2-msg tests/unit/test-token-source \
	tests/unit/test-sasl-client tests/unit/test-helper-client
TESTS += tests/unit/test-xoauth2-msg tests/unit/test-token-source \
	tests/unit/test-sasl-client tests/unit/test-helper-client
PLUGIN_UNIT_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(top_srcdir)/plugin
PLUGIN_UNIT_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
PLUGIN_UNIT_LDADD = plugin/libmbplugin.la common/libcommon.la \
	tests/lib/libtap.la
tests_unit_test_xoauth2_msg_SOURCES = tests/unit/test-xoauth2-msg.c
tests_unit_test_xoauth2_msg_CPPFLAGS = $(PLUGIN_UNIT_CPPFLAGS)
tests_unit_test_xoauth2_msg_CFLAGS = $(PLUGIN_UNIT_CFLAGS)
tests_unit_test_xoauth2_msg_LDADD = $(PLUGIN_UNIT_LDADD)
tests_unit_test_token_source_SOURCES = tests/unit/test-token-source.c
tests_unit_test_token_source_CPPFLAGS = $(PLUGIN_UNIT_CPPFLAGS)
tests_unit_test_token_source_CFLAGS = $(PLUGIN_UNIT_CFLAGS)
tests_unit_test_token_source_LDADD = $(PLUGIN_UNIT_LDADD)
tests_unit_test_helper_client_SOURCES = tests/unit/test-helper-client.c
tests_unit_test_helper_client_CPPFLAGS = $(PLUGIN_UNIT_CPPFLAGS)
tests_unit_test_helper_client_CFLAGS = $(PLUGIN_UNIT_CFLAGS)
tests_unit_test_helper_client_LDADD = $(PLUGIN_UNIT_LDADD)
# send() fails on demand (a connection serve refused at accept)
tests_unit_test_helper_client_LDFLAGS = -Wl,--wrap=send
tests_unit_test_sasl_client_SOURCES = tests/unit/test-sasl-client.c
tests_unit_test_sasl_client_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_sasl_client_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_unit_test_sasl_client_LDADD = tests/lib/libtap.la $(SASL_LIBS)

# tokenhelper/: the helper's core through libmbhelper.
if TOKENHELPER
HELPER_UNIT_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(top_srcdir)/tokenhelper
HELPER_UNIT_LDADD = tokenhelper/libmbhelper.la tests/lib/libtap.la
check_PROGRAMS += tests/unit/test-config tests/unit/test-store \
	tests/unit/test-owner \
	tests/unit/test-http tests/unit/test-safe-open \
	tests/unit/test-advice tests/unit/test-refresh \
	tests/unit/test-flow-code tests/unit/test-leak-oom \
	tests/unit/test-token-cache tests/unit/test-id-token \
	tests/unit/test-client-assertion tests/unit/test-seal
TESTS += tests/unit/test-config tests/unit/test-store \
	tests/unit/test-owner \
	tests/unit/test-http tests/unit/test-safe-open \
	tests/unit/test-advice tests/unit/test-refresh \
	tests/unit/test-flow-code tests/unit/test-leak-oom \
	tests/unit/test-token-cache tests/unit/test-id-token \
	tests/unit/test-client-assertion tests/unit/test-seal
tests_unit_test_client_assertion_SOURCES = tests/unit/test-client-assertion.c
tests_unit_test_client_assertion_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_client_assertion_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
tests_unit_test_client_assertion_LDADD = $(HELPER_UNIT_LDADD) \
	$(JSONC_LIBS) $(CRYPTO_LIBS)
# sealed values of the etcd store (AES-256-GCM) and the key file
tests_unit_test_seal_SOURCES = tests/unit/test-seal.c
tests_unit_test_seal_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_seal_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_id_token_SOURCES = tests/unit/test-id-token.c
tests_unit_test_id_token_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_id_token_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_config_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_owner_SOURCES = tests/unit/test-owner.c
tests_unit_test_owner_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_owner_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_safe_open_SOURCES = tests/unit/test-safe-open.c
tests_unit_test_safe_open_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_safe_open_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_http_SOURCES = tests/unit/test-http.c
tests_unit_test_http_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_http_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_store_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_store_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_advice_SOURCES = tests/unit/test-advice.c
tests_unit_test_advice_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_advice_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_refresh_SOURCES = tests/unit/test-refresh.c
tests_unit_test_refresh_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_refresh_LDADD = $(HELPER_UNIT_LDADD)
# serve's token cache with a fake clock, runner and state peek
tests_unit_test_token_cache_SOURCES = tests/unit/test-token-cache.c
tests_unit_test_token_cache_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_token_cache_LDADD = $(HELPER_UNIT_LDADD)
tests_unit_test_flow_code_SOURCES = tests/unit/test-flow-code.c \
	tokenhelper/flow-code.c tokenhelper/flow-code.h
tests_unit_test_flow_code_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS)
tests_unit_test_flow_code_LDADD = $(HELPER_UNIT_LDADD)
# out of memory inside a worker thread: one line, then _exit(71)
tests_unit_test_leak_oom_SOURCES = tests/unit/test-leak-oom.c
tests_unit_test_leak_oom_CPPFLAGS = $(HELPER_UNIT_CPPFLAGS) -I$(top_srcdir)
tests_unit_test_leak_oom_CFLAGS = $(AM_CFLAGS) -pthread
tests_unit_test_leak_oom_LDADD = $(HELPER_UNIT_LDADD) -lpthread
endif

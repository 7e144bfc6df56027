# Tests of the token helper's core: unit tests in C linking
# tokenhelper/libmbhelper.la, integration tests against the mock provider.
if TOKENHELPER
mb_core_test_ldadd = tokenhelper/libmbhelper.la tests/libtap.la
mb_core_test_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/tests \
	-I$(top_srcdir)/tokenhelper

check_PROGRAMS += tests/test-config tests/test-store tests/test-advice \
	tests/test-refresh tests/test-durable-api
tests_test_durable_api_SOURCES = tests/test-durable-api.c
tests_test_durable_api_CPPFLAGS = $(mb_core_test_cppflags)
tests_test_durable_api_LDADD = $(mb_core_test_ldadd)
tests_test_config_SOURCES = tests/test-config.c
tests_test_config_CPPFLAGS = $(mb_core_test_cppflags)
tests_test_config_LDADD = $(mb_core_test_ldadd)
tests_test_store_SOURCES = tests/test-store.c
tests_test_store_CPPFLAGS = $(mb_core_test_cppflags)
tests_test_store_LDADD = $(mb_core_test_ldadd)
tests_test_advice_SOURCES = tests/test-advice.c
tests_test_advice_CPPFLAGS = $(mb_core_test_cppflags)
tests_test_advice_LDADD = $(mb_core_test_ldadd)
tests_test_refresh_SOURCES = tests/test-refresh.c
tests_test_refresh_CPPFLAGS = $(mb_core_test_cppflags)
tests_test_refresh_LDADD = $(mb_core_test_ldadd)

TESTS += tests/test-config tests/test-store tests/test-advice \
	tests/test-refresh tests/test-token.sh tests/test-token-flight.sh \
	tests/test-token-keepalive.sh $(mb_durable_tests)
endif
mb_durable_tests = tests/test-durable-badreply.sh \
	tests/test-durable-disk.sh tests/test-durable-crash.sh \
	tests/test-durable-fifo.sh tests/test-durable-rejected.sh \
	tests/test-token-lostreply.sh
EXTRA_DIST += tests/test-token.sh tests/test-token-flight.sh \
	tests/test-token-keepalive.sh tests/lib-token.sh $(mb_durable_tests)

# `mailbearer authorize`: the loopback, paste and device flows against the
# mock provider (tests/mock-provider/mock_authz.py), and end to end through
# serve, the plugin and Dovecot.
if TOKENHELPER
check_PROGRAMS += tests/test-flow-code
tests_test_flow_code_SOURCES = tests/test-flow-code.c \
	tokenhelper/flow-code.c tokenhelper/flow-code.h
tests_test_flow_code_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests \
	-I$(top_srcdir)/tokenhelper
tests_test_flow_code_LDADD = tokenhelper/libmbhelper.la tests/libtap.la
TESTS += tests/test-flow-code tests/test-authorize-loopback.sh \
	tests/test-authorize-paste.sh tests/test-authorize-device.sh \
	tests/test-authorize-e2e.sh
endif
EXTRA_DIST += tests/lib-authorize.sh tests/test-authorize-loopback.sh \
	tests/test-authorize-paste.sh tests/test-authorize-device.sh \
	tests/test-authorize-e2e.sh tests/mock-provider/mock_authz.py

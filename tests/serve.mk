# Tests of the wire protocol, `mailbearer serve` and the plugin's helper
# client (the plugin side is in plugin.mk).
check_PROGRAMS += tests/test-ipc-proto
tests_test_ipc_proto_SOURCES = tests/test-ipc-proto.c
tests_test_ipc_proto_LDADD = tests/libtap.la common/libcommon.la
TESTS += tests/test-ipc-proto

# `mailbearer serve` linked against a fake token core (tests/fake-token.c)
# so that the socket server is tested on its own: single-flight, access
# control, reload, activation, shutdown.
check_PROGRAMS += tests/mb-fake-serve
tests_mb_fake_serve_SOURCES = tests/fake-token.c \
	tokenhelper/cancel.c tokenhelper/cancel.h \
	tokenhelper/errtext.c tokenhelper/errtext.h \
	tokenhelper/expiry.c tokenhelper/expiry.h \
	tokenhelper/token-cache.c tokenhelper/token-cache.h \
	tokenhelper/listener.c tokenhelper/listener.h \
	tokenhelper/cmd-serve.c tokenhelper/cmd.h
tests_mb_fake_serve_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tokenhelper \
	-DMB_SYSTEM_SOCKET='"/nonexistent/mailbearer/socket"'
tests_mb_fake_serve_CFLAGS = $(AM_CFLAGS) -pthread
tests_mb_fake_serve_LDADD = common/libcommon.la -lpthread

TESTS += tests/test-serve.sh tests/test-serve-engine.sh
EXTRA_DIST += tests/test-serve.sh tests/test-serve-engine.sh \
	tests/ipc-client.py tests/serve-load.py

# End to end through the helper (needs the plugin, the helper, Dovecot,
# cyrus-clients and the mock provider; skips otherwise).
TESTS += tests/test-e2e-helper.sh
EXTRA_DIST += tests/test-e2e-helper.sh

# The real `mailbearer serve` daemonised with a relative --config, and
# against the mock provider under load and a hanging token endpoint.
if TOKENHELPER
TESTS += tests/test-serve-daemon.sh tests/test-serve-real.sh \
	tests/test-serve-pending.sh
endif
EXTRA_DIST += tests/test-serve-daemon.sh tests/test-serve-real.sh \
	tests/test-serve-pending.sh
EXTRA_DIST += contrib/mailbearer.service contrib/mailbearer.socket \
	doc/usage-serve.md

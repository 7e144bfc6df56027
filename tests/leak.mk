# Tests of secret hygiene and honest answers of the token helper (leaks,
# failure classification, cancellation, PassCmd users): integration tests
# against the mock provider, and their C drivers (linking libmbcore).
if TOKENHELPER
check_PROGRAMS += tests/test-leak-cancel-run
tests_test_leak_cancel_run_SOURCES = tests/test-leak-cancel-run.c
tests_test_leak_cancel_run_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_test_leak_cancel_run_CFLAGS = $(AM_CFLAGS) -pthread
tests_test_leak_cancel_run_LDADD = tokenhelper/libmbcore.la -lpthread

check_PROGRAMS += tests/test-leak-oom
tests_test_leak_oom_SOURCES = tests/test-leak-oom.c
tests_test_leak_oom_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) \
	-I$(top_srcdir)/tests
tests_test_leak_oom_CFLAGS = $(AM_CFLAGS) -pthread
tests_test_leak_oom_LDADD = tokenhelper/libmbcore.la tests/libtap.la \
	-lpthread

TESTS += tests/test-leak-oom tests/test-leak-redact.sh \
	tests/test-leak-cancel.sh tests/test-leak-dumpable.sh
endif
EXTRA_DIST += tests/test-leak-redact.sh tests/test-leak-cancel.sh \
	tests/test-leak-dumpable.sh

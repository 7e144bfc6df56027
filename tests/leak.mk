# Tests of secret hygiene and honest answers of the token helper (leaks,
# failure classification, cancellation, PassCmd users): integration tests
# against the mock provider, and their C drivers (linking libmbhelper).
if TOKENHELPER
check_PROGRAMS += tests/test-leak-cancel-run
tests_test_leak_cancel_run_SOURCES = tests/test-leak-cancel-run.c
tests_test_leak_cancel_run_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_test_leak_cancel_run_CFLAGS = $(AM_CFLAGS) -pthread
tests_test_leak_cancel_run_LDADD = tokenhelper/libmbhelper.la -lpthread

check_PROGRAMS += tests/test-leak-oom
tests_test_leak_oom_SOURCES = tests/test-leak-oom.c
tests_test_leak_oom_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) \
	-I$(top_srcdir)/tests
tests_test_leak_oom_CFLAGS = $(AM_CFLAGS) -pthread
tests_test_leak_oom_LDADD = tokenhelper/libmbhelper.la tests/libtap.la \
	-lpthread

TESTS += tests/test-leak-oom tests/test-leak-redact.sh \
	tests/test-leak-cancel.sh tests/test-leak-dumpable.sh \
	tests/test-passcmd-truth.sh
endif
EXTRA_DIST += tests/test-leak-redact.sh tests/test-leak-cancel.sh \
	tests/test-leak-dumpable.sh tests/test-passcmd-truth.sh

# common/errstr.c with the GNU strerror_r of this build and, built again
# with MB_ERRSTR_TEST_XSI, with the XSI one.
check_PROGRAMS += tests/test-leak-errstr tests/test-leak-errstr-xsi
tests_test_leak_errstr_SOURCES = tests/test-leak-errstr.c
tests_test_leak_errstr_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
tests_test_leak_errstr_LDADD = common/libcommon.la tests/libtap.la
tests_test_leak_errstr_xsi_SOURCES = tests/test-leak-errstr.c \
	common/errstr.c
tests_test_leak_errstr_xsi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests \
	-DMB_ERRSTR_TEST_XSI
tests_test_leak_errstr_xsi_LDADD = tests/libtap.la
TESTS += tests/test-leak-errstr tests/test-leak-errstr-xsi

# The real-server side: the mock OAuth2 provider, the test CA, a private
# Dovecot, and the cyrus-clients (imtest, pop3test, smtptest) end-to-end
# tests through our plugin.
TESTS += tests/test-provider.sh tests/test-dovecot-imap.sh \
	tests/test-dovecot-pop3.sh tests/test-dovecot-submission.sh

EXTRA_DIST += \
	tests/ca.sh \
	tests/lib-servers.sh \
	tests/mock-provider/mock_oauth2.py \
	tests/mock-provider/mockctl.py \
	tests/mock-provider/README.md \
	tests/dovecot/dovecot.conf.in \
	tests/dovecot/dovecot-oauth2.conf.ext.in \
	tests/test-provider.sh tests/test-dovecot-imap.sh \
	tests/test-dovecot-pop3.sh tests/test-dovecot-submission.sh \
	tests/syslog-shim.c contrib/demo.sh

# LD_PRELOAD module that turns syslog(3) into appends to $MB_SYSLOG_FILE, so
# that the tests can read what libsasl2 and our plugin log inside imtest.
# -rpath makes libtool build a shared module although it is never installed.
check_LTLIBRARIES += tests/libsyslogshim.la
tests_libsyslogshim_la_SOURCES = tests/syslog-shim.c
tests_libsyslogshim_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_libsyslogshim_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_libsyslogshim_la_LIBADD = -ldl

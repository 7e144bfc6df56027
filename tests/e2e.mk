# The real-server side: the mock OAuth2 provider, the test CA, a private
# Dovecot, and the cyrus-clients (imtest, pop3test, smtptest) end-to-end
# tests through our plugin.
TESTS += tests/test-provider.sh

EXTRA_DIST += \
	tests/ca.sh \
	tests/lib-servers.sh \
	tests/mock-provider/mock_oauth2.py \
	tests/mock-provider/mockctl.py \
	tests/mock-provider/README.md \
	tests/dovecot/dovecot.conf.in \
	tests/dovecot/dovecot-oauth2.conf.ext.in \
	tests/test-provider.sh

# flow = client_credentials (Microsoft 365 app-only): `mailbearer token`
# with a client secret and with certificate credentials, single flight,
# and through `serve` to Dovecot.  The mock provider's side is
# tests/mock-provider/mock_cc.py.
if TOKENHELPER
TESTS += tests/test-cc-token.sh tests/test-cc-flight.sh \
	tests/test-cc-serve.sh
endif
EXTRA_DIST += tests/test-cc-token.sh tests/test-cc-flight.sh \
	tests/test-cc-serve.sh \
	tests/mock-provider/mock_cc.py

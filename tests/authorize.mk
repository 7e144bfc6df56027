# `mailbearer authorize`: the loopback, paste and device flows against the
# mock provider (tests/mock-provider/mock_authz.py), and end to end through
# serve, the plugin and Dovecot.
if TOKENHELPER
TESTS += tests/test-authorize-loopback.sh tests/test-authorize-paste.sh \
	tests/test-authorize-device.sh tests/test-authorize-e2e.sh
endif
EXTRA_DIST += tests/lib-authorize.sh tests/test-authorize-loopback.sh \
	tests/test-authorize-paste.sh tests/test-authorize-device.sh \
	tests/test-authorize-e2e.sh tests/mock-provider/mock_authz.py

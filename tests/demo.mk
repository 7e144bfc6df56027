# contrib/demo.sh, README's first command, run against this build (the
# loopback authorization, serve, a forced expiry, a private Postfix, and
# nothing left behind), and the first-contact fixes of issue 8: the
# plugin's fallback to the system socket said, and root's configuration
# file.  Needs root and every package; skips otherwise.
EXTRA_DIST += tests/test-demo.sh tests/test-plugin-socket-why.sh \
	tests/test-config-root.sh
if TOKENHELPER
TESTS += tests/test-demo.sh tests/test-plugin-socket-why.sh \
	tests/test-config-root.sh
endif

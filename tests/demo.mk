# contrib/demo.sh, README's first command, run against this build: the
# loopback authorization, serve, a forced expiry, a private Postfix, and
# nothing left behind.  Needs root and every package; skips otherwise.
EXTRA_DIST += tests/test-demo.sh tests/test-plugin-socket-why.sh
if TOKENHELPER
TESTS += tests/test-demo.sh tests/test-plugin-socket-why.sh
endif

# Installation and packaging: make install of units, example config and
# guides; the Debian packages (tests/test-pkg-build.sh).
EXTRA_DIST += tests/test-install-units.sh tests/test-install-pidfile.sh \
	tests/pkg.mk
if TOKENHELPER
TESTS += tests/test-install-units.sh tests/test-install-pidfile.sh
endif

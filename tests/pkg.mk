# Installation and packaging: make install of units, example config and
# guides; serve --pidfile; the Debian packages (test-pkg-build.sh builds
# them from a copy of the source tree, about 45 s).
EXTRA_DIST += tests/test-install-units.sh tests/test-install-pidfile.sh \
	tests/test-pkg-build.sh tests/pkg.mk
if TOKENHELPER
TESTS += tests/test-install-units.sh tests/test-install-pidfile.sh \
	tests/test-pkg-build.sh
endif

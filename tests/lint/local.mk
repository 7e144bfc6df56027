# SPDX-License-Identifier: MIT
# Checks of the source tree itself: the house style (test-style.sh:
# columns, tabs, no // comments, no trailing white space, no unbounded
# string functions), and every configuration block of README, doc/, the
# man pages and the example config parsed by the real parser; and the
# test harness's own promises (test-harness.sh); the service user's one
# definition (test-service-user.sh).
TESTS += tests/lint/test-style.sh tests/lint/test-harness.sh \
	tests/lint/test-service-user.sh
if TOKENHELPER
TESTS += tests/lint/test-docs-config.sh
endif
EXTRA_DIST += tests/lint/local.mk tests/lint/test-style.sh \
	tests/lint/test-harness.sh tests/lint/test-service-user.sh \
	tests/lint/test-docs-config.sh

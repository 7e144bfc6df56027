# `mailbearer doctor`: a good set-up passes every check, and each broken
# set-up it claims to detect gives its FAIL line (tests/lib-doctor.sh).
# libdocshadow.so is a plugin that outranks ours for XOAUTH2.
if TOKENHELPER
check_LTLIBRARIES += tests/libdocshadow.la
tests_libdocshadow_la_SOURCES = tests/doctor-shadow.c
tests_libdocshadow_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_libdocshadow_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
TESTS += tests/test-doctor-good.sh tests/test-doctor-local.sh \
	tests/test-doctor-postfix.sh tests/test-doctor-login.sh
endif
EXTRA_DIST += tests/lib-doctor.sh tests/doctor-ms-smtp.py \
	tests/test-doctor-good.sh tests/test-doctor-local.sh \
	tests/test-doctor-postfix.sh tests/test-doctor-login.sh

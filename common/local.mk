# common/: code shared by the plugin and the helper (no libc allocation
# policy, no stdio): the wire protocol, the account-name and token rules,
# the SASL initial responses, base64 and secret wiping.
noinst_LTLIBRARIES += common/libcommon.la
common_libcommon_la_SOURCES = \
	common/errstr.c common/errstr.h \
	common/wipe.c common/wipe.h \
	common/ipc-proto.c common/ipc-proto.h \
	common/token-syntax.c common/token-syntax.h \
	common/token-rule.c common/token-rule.h \
	common/account-name.c common/account-name.h \
	common/base64.c common/base64.h \
	common/bounded-writer.c common/bounded-writer.h \
	common/initial-response.c common/initial-response.h

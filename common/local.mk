# SPDX-License-Identifier: MIT
# common/: code shared by the plugin and the helper (no libc allocation
# policy, no stdio): the wire protocol, the account-name and token rules,
# the SASL initial responses, base64, secret wiping, which socket of
# serve is used (with the client side of connecting to it), and the
# escaping of text others wrote (text-safe).
noinst_LTLIBRARIES += common/libcommon.la
common_libcommon_la_SOURCES = \
	common/errstr.c common/errstr.h \
	common/wipe.c common/wipe.h \
	common/ipc-proto.c common/ipc-proto.h \
	common/token-syntax.c common/token-syntax.h \
	common/token-rule.c common/token-rule.h \
	common/text-safe.c common/text-safe.h \
	common/account-name.c common/account-name.h \
	common/base64.c common/base64.h \
	common/bounded-writer.c common/bounded-writer.h \
	common/initial-response.c common/initial-response.h \
	common/serve-socket.c common/serve-socket.h
# The system socket (configure --with-socket), in a make variable so that
# `make runstatedir=...` works.
common_libcommon_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DMB_SOCKET_PATH='"$(mb_socket)"'

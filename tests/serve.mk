# Tests of the wire protocol, `mailbearer serve` and the plugin's helper
# client (engineer D).
check_PROGRAMS += tests/test-ipc-proto
tests_test_ipc_proto_SOURCES = tests/test-ipc-proto.c
tests_test_ipc_proto_LDADD = tests/libtap.la common/libcommon.la
TESTS += tests/test-ipc-proto

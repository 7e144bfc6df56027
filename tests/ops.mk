# Operations: `status --json`, `revoke`, `import` of other tools' files,
# `notify`, the helper's log lines.
EXTRA_DIST += tests/test-ops-status.sh tests/test-ops-import.sh \
	tests/test-ops-revoke.sh tests/mock-provider/mock_revoke.py \
	tests/test-ops-notify.sh tests/test-ops-log.sh
if TOKENHELPER
TESTS += tests/test-ops-status.sh tests/test-ops-import.sh \
	tests/test-ops-revoke.sh tests/test-ops-notify.sh tests/test-ops-log.sh
endif

# Operations: `status --json`, `revoke`, `import` of other tools' files,
# `notify`, the helper's log lines.
EXTRA_DIST += tests/test-ops-status.sh tests/test-ops-import.sh
if TOKENHELPER
TESTS += tests/test-ops-status.sh tests/test-ops-import.sh
endif

# Tests of secret hygiene and honest answers of the token helper (leaks,
# failure classification, cancellation, PassCmd users): integration tests
# against the mock provider.
if TOKENHELPER
TESTS += tests/test-leak-redact.sh
endif
EXTRA_DIST += tests/test-leak-redact.sh

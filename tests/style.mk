# The house style checked mechanically (tests/style.sh: columns, tabs, no
# // comments, no trailing white space, no unbounded string functions).
TESTS += tests/style.sh
EXTRA_DIST += tests/style.sh tests/style.mk

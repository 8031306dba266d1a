selftests-build:

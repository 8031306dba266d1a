# Selftest binaries (included by the top Makefile).
SELFTEST_BINS := $(O)/selftests/test_unit

$(O)/selftests/%: selftests/%.c $(LIB) $(wildcard selftests/lib/*.h)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CC) $(CFLAGS) -Iselftests -o $@ $< $(LIB) $(LIBS)

selftests-build: $(SELFTEST_BINS)

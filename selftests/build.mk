# Selftest binaries (included by the top Makefile).
SELFTEST_BINS := $(O)/selftests/test_unit $(O)/selftests/xdp_blast

$(O)/selftests/%: selftests/%.c $(LIB) $(wildcard selftests/lib/*.h)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CC) $(CFLAGS) -Iselftests -o $@ $< $(LIB) $(LIBS)

selftests-build: $(SELFTEST_BINS)

SELFTEST_BPF := $(O)/selftests/xdp_pass.bpf.o

$(O)/selftests/%.bpf.o: selftests/bpf/%.bpf.c
	@echo "  BPF     $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

selftests-build: $(SELFTEST_BPF)

# Selftest binaries (included by the top Makefile).
SELFTEST_BINS := $(O)/selftests/test_unit $(O)/selftests/xdp_blast $(O)/selftests/kmod_reg \
		 $(O)/selftests/kmod_get $(O)/selftests/kmod_probe $(O)/selftests/vm_hold

$(O)/selftests/%: selftests/%.c $(LIB) $(wildcard selftests/lib/*.h)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CC) $(CFLAGS) -Iselftests -o $@ $< $(LIB) $(LIBS)

selftests-build: $(SELFTEST_BINS)

SELFTEST_BPF := $(O)/selftests/xdp_pass.bpf.o $(O)/selftests/kmod_kfunc.bpf.o

$(O)/selftests/%.bpf.o: selftests/bpf/%.bpf.c
	@echo "  BPF     $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

selftests-build: $(SELFTEST_BPF)

# The policy parser under libFuzzer (make fuzz; selftests/test_policy_fuzz.sh
# runs it for a minute). The library is built again with clang and the
# sanitizers in $(O)/fuzz, so the normal build is untouched.
FUZZ_O	    := $(O)/fuzz
FUZZ_BIN    := $(FUZZ_O)/policy_fuzz
FUZZ_TIME   ?= 600
FUZZ_FLAGS  ?= -rss_limit_mb=2048 -timeout=5
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-strict-aliasing $(FUZZ_SAN) \
	       -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	       -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Ibpf -I$(O) $(NL_CFLAGS)
FUZZ_LIB_OBJS := $(patsubst user/lib/%.c,$(FUZZ_O)/lib/%.o,$(LIB_SRCS))

$(FUZZ_O)/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h) include/tandem/tandem.h $(SKELS) $(O)/nf_list.h \
		$(NF_SRCS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(FUZZ_O)/lib
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BIN): selftests/fuzz/policy_fuzz.c $(FUZZ_LIB_OBJS)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_BIN)

# New inputs go to $(FUZZ_O)/corpus (the seeds in git stay as they are),
# crashes to $(FUZZ_O)/crashes/.
fuzz: $(FUZZ_BIN)
	$(Q)mkdir -p $(FUZZ_O)/corpus $(FUZZ_O)/crashes
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) $(FUZZ_FLAGS) \
		-dict=selftests/fuzz/policy.dict \
		-artifact_prefix=$(FUZZ_O)/crashes/ \
		$(FUZZ_O)/corpus selftests/fuzz/corpus

.PHONY: fuzz fuzz-build

# tandemd's process supervisor, cgroups and weights, without the daemon:
# the unit test and the driver of test_supervise.sh
SUP_SRCS := user/tandemd/supervise.c user/tandemd/cgroup.c \
	    user/tandemd/weights.c user/tandemd/log.c
SUP_BINS := $(O)/selftests/test_sup $(O)/selftests/sup_driver

$(SUP_BINS): $(O)/selftests/%: selftests/%.c $(SUP_SRCS) user/tandemd/tandemd.h $(wildcard include/tandem/*.h) \
		$(wildcard user/lib/*.h) $(O)/nf_list.h $(NF_SRCS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CC) $(CFLAGS) -Iselftests -Iuser/tandemd -o $@ $< $(SUP_SRCS) -lm

selftests-build: $(SUP_BINS)

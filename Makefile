# SPDX-License-Identifier: GPL-2.0-only
#
# tandem: NF service chains on XDP.
#
#   make            build the BPF objects, skeletons, library and binaries
#   make deps       install the Debian packages needed (idempotent)
#   make demo       build, make a netns topology, attach a chain, show stats
#   make check      every test: host selftests and the VM ones
#   make bench      per-packet costs and the process NF experiments (not part of check)
#   make bench-process  the process NF experiments alone
#   make bench-kmod the module's reaction time against polling (in a VM)
#   make fuzz       the policy parser under libFuzzer, FUZZ_TIME seconds (600)
#   make install    install binaries and the man page under $(PREFIX)
#   make kmod       tandem_sched.ko for KDIR's kernel (the running one's),
#                   or for each kernel the VM tests boot: make kmod-vm

PREFIX	?= /usr/local
# tandemd.service goes here, naming $(PREFIX)/sbin/tandemd
SYSTEMDUNITDIR ?= /etc/systemd/system
O	?= build
V	?= 0
Q	:= $(if $(filter 1,$(V)),,@)

CC	?= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
ARCH	:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -dumpmachine)

CFLAGS	?= -O2 -g
# -fno-strict-aliasing, as the kernel: an NF's parameters are read as its
# own struct from union tdm_nf_params' bytes (TDM_NF_PARAMS())
CFLAGS	+= -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	   -fno-strict-aliasing -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Ibpf -I$(O)
NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
CFLAGS	+= $(NL_CFLAGS)
LIBS	:= $(shell pkg-config --libs libbpf json-c libnl-route-3.0 2>/dev/null || \
		echo -lbpf -lelf -lz -ljson-c -lnl-route-3 -lnl-3)

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -fno-strict-aliasing \
	      -I$(O) -Iinclude -Ibpf -I/usr/include/$(MULTIARCH) \
	      -Wall -Wno-unused-function

# Built-in NFs: every bpf/nf_*.bpf.c, inlined into the hop program, with
# its library half user/lib/nf_*.c (bpf/lib/nf.h)
NF_SRCS   := $(sort $(wildcard bpf/nf_*.bpf.c))
NF_LIB_SRCS := $(sort $(wildcard user/lib/nf_*.c))
BPF_PROGS := entry chain chain_km proc ct_egress bench_mono
BPF_OBJS  := $(patsubst %,$(O)/bpf/%.bpf.o,$(BPF_PROGS))
SKELS	  := $(patsubst %,$(O)/bpf/%.skel.h,$(BPF_PROGS))
BPF_HDRS  := $(wildcard bpf/lib/*.h) $(wildcard include/tandem/*.h)

LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(patsubst user/lib/%.c,$(O)/lib/%.o,$(LIB_SRCS))
LIB	  := $(O)/libtandem.a
CLI_SRCS  := $(wildcard user/tandem/*.c)
CLI_OBJS  := $(patsubst user/tandem/%.c,$(O)/cli/%.o,$(CLI_SRCS))
CLI_LIBS  := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
DMN_SRCS  := $(wildcard user/tandemd/*.c)
DMN_OBJS  := $(patsubst user/tandemd/%.c,$(O)/daemon/%.o,$(DMN_SRCS))
DMN_CFLAGS := $(shell pkg-config --cflags libmicrohttpd libsystemd 2>/dev/null)
DMN_LIBS  := $(shell pkg-config --libs libmicrohttpd libsystemd 2>/dev/null || \
		echo -lmicrohttpd -lsystemd) -lpthread -lm

all: $(O)/tandem $(O)/tandemd $(O)/tdm-bench $(O)/tdm-fw-bench $(O)/udp-blast \
	selftests-build \
	$(O)/layers.ok

$(O)/vmlinux.h:
	$(Q)mkdir -p $(O)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(O)/bpf/chain_km.bpf.o: bpf/chain.bpf.c	# it includes chain.bpf.c
$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(O)/vmlinux.h $(NF_SRCS) $(O)/nf_list.h
	@echo "  BPF     $@"
	$(Q)mkdir -p $(O)/bpf
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Made on every run, replaced only when it changes: an NF file added or
# removed, or its TDM_NF() line edited, rebuilds the hop program. It
# fails when the datapath's NFs and the library's differ.
$(O)/nf_list.h: FORCE
	$(Q)mkdir -p $(O)
	$(Q)tools/gen-nf-list $(NF_SRCS) -- $(NF_LIB_SRCS) > $@.tmp || \
		{ rm -f $@.tmp; exit 1; }
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else \
		echo "  GEN     $@"; mv $@.tmp $@; fi


$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,tdm_$*) > $@.tmp && mv $@.tmp $@

$(O)/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h) $(wildcard include/tandem/*.h) $(SKELS) $(O)/nf_list.h $(NF_SRCS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/lib
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The library's calls go only down its layers, listed in user/lib/internal.h
# (Documentation/architecture.rst): a call up fails the build.
$(O)/layers.ok: $(LIB) tools/check-layers user/lib/internal.h
	@echo "  LAYERS  $(LIB)"
	$(Q)tools/check-layers $(O)
	$(Q)touch $@

$(O)/cli/%.o: user/tandem/%.c $(wildcard user/tandem/*.h) $(wildcard user/lib/*.h) \
		$(wildcard include/tandem/*.h) $(O)/nf_list.h $(NF_SRCS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/cli
	$(Q)$(CC) $(CFLAGS) -Iuser/tandem -c $< -o $@

$(O)/tandem: $(CLI_OBJS) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(CLI_LIBS)

$(O)/daemon/%.o: user/tandemd/%.c $(wildcard user/tandemd/*.h) \
		$(wildcard user/lib/*.h) $(wildcard include/tandem/*.h) $(O)/nf_list.h $(NF_SRCS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/daemon
	$(Q)$(CC) $(CFLAGS) $(DMN_CFLAGS) -Iuser/tandemd -c $< -o $@

$(O)/tandemd: $(DMN_OBJS) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(DMN_LIBS)

$(O)/tdm-bench: tools/bench/tdm_bench.c $(LIB) $(O)/bpf/bench_mono.skel.h
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Iselftests -o $@ $< $(LIB) $(LIBS)

$(O)/tdm-fw-bench: tools/bench/fw_bench.c $(LIB)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Iselftests -o $@ $< $(LIB) $(LIBS)

$(O)/udp-blast: tools/bench/udp_blast.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $<

include selftests/build.mk
include user/nf/build.mk

deps:
	$(Q)tools/deps

# The optional module (kmod/, Documentation/kmod.rst), into
# $(O)/kmod/KVER/tandem_sched.ko: for kernel KVER (the running one's),
# from its build dir KDIR (kbuild's name; /lib/modules/KVER/build).
KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build
kmod:
	$(Q)tools/kmod-build $(KVER) $(O)/kmod/$(KVER) $(KDIR)

# For each kernel selftests/run_all boots (tools/vmtest --test-kernels)
kmod-vm:
	$(Q)for k in $$(tools/vmtest --test-kernels); do \
		tools/kmod-build $$k $(O)/kmod/$$k || exit 1; done

demo: deps all
	$(Q)tools/demo

check: deps all kmod-vm
	$(Q)selftests/run_all

bench: deps all $(O)/tdm-bench
	$(Q)$(O)/tdm-bench -o Documentation/benchmarks.md && cat Documentation/benchmarks.md
	$(Q)$(MAKE) --no-print-directory bench-fw-lookup
	$(Q)$(MAKE) --no-print-directory bench-fw
	$(Q)$(MAKE) --no-print-directory bench-process
	$(Q)$(MAKE) --no-print-directory bench-kmod

# tandem's firewall against nftables, 1 to 100,000 rules, IPv4 and IPv6
# (Documentation/firewall-bench.md and .png); root, about 10 minutes.
bench-fw: deps all
	$(Q)$(O)/tdm-fw-bench -o Documentation/firewall-bench.md -d $(O)/fw-bench.dat
	$(Q)gnuplot -e "dat='$(O)/fw-bench.dat'; out='Documentation/firewall-bench.png'" \
		tools/bench/fw_bench.gp
	$(Q)cat Documentation/firewall-bench.md

# The firewall's two lookups, linear and tuples, by rules and tuples
# (Documentation/firewall-lookup-bench.md); root, under a minute.
bench-fw-lookup: all
	$(Q){ echo "# Firewall lookup cost"; echo; \
	  echo "Written by \`make bench-fw-lookup\` (test_unit's firewall lookup case"; \
	  echo "with TDM_FW_COST_REPEAT=200000) on $$(uname -r), $$(nproc) CPUs, $$(date -u +%F)."; \
	  echo "See Documentation/architecture.rst, \"Classification\", for what each column is."; \
	  echo; echo '```'; \
	  TDM_FW_COST_REPEAT=200000 $(O)/selftests/test_unit | \
	    sed -n '/lookup cost/,/^ok/p' | grep '^# ' | sed 's/^# //'; \
	  echo '```'; } > Documentation/firewall-lookup-bench.md
	$(Q)cat Documentation/firewall-lookup-bench.md

# Process NFs on veth: wasted work, CPU weights, the detour's cost
# (Documentation/process-nfs-bench.md); root, about 10 minutes.
bench-process: all
	$(Q)tools/bench/process_bench.sh -o Documentation/process-nfs-bench.md

# Reaction time of the CPU weights to a watermark crossing, with
# tandem_sched.ko and by polling, in one VM run (Documentation/
# benchmarks.md, "Reaction time"); about 5 minutes.
bench-kmod: all
	$(Q)tools/bench/kmod_react.sh -o Documentation/benchmarks.md

# The process NFs go to $(PREFIX)/lib/tandem/, not sbin: they are not
# commands, tandemd runs them by path.
install: all
	install -D -m 0755 $(O)/tandem $(DESTDIR)$(PREFIX)/sbin/tandem
	install -D -m 0755 $(O)/tandemd $(DESTDIR)$(PREFIX)/sbin/tandemd
	install -D -m 0644 Documentation/tandem.8 $(DESTDIR)$(PREFIX)/share/man/man8/tandem.8
	install -D -m 0644 Documentation/tandemd.8 $(DESTDIR)$(PREFIX)/share/man/man8/tandemd.8
	install -d $(DESTDIR)$(PREFIX)/lib/tandem
	install -m 0755 $(NF_PROGS) $(DESTDIR)$(PREFIX)/lib/tandem/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's#/usr/local/sbin/#$(PREFIX)/sbin/#' tools/systemd/tandemd.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/tandemd.service

clean:
	rm -rf $(O)

.PHONY: all deps demo check bench bench-fw bench-fw-lookup bench-process bench-kmod install clean selftests-build kmod kmod-vm FORCE
.DELETE_ON_ERROR:
.SECONDARY:

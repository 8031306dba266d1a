# Process NFs (included by the top Makefile): libtandem-nf, the library
# they are written with, and the NFs that ship with tandem. tandemd runs
# the NFs by path from $(PREFIX)/lib/tandem/ (make install).
NF_LIB	    := $(O)/libtandem-nf.a
NF_CFLAGS   := $(shell pkg-config --cflags libxdp libbpf libhs 2>/dev/null || \
		echo -I/usr/include/hs)
NF_LIBS	    := $(shell pkg-config --libs libxdp libbpf libhs 2>/dev/null || \
		echo -lxdp -lbpf -lhs)
NF_PROGS    := $(O)/tandem-nf-scan
# burn counts TSC cycles: x86 only (user/nf/burn.c says why)
ifeq ($(ARCH),x86)
NF_PROGS    += $(O)/tandem-nf-burn
endif
NF_HDRS	    := include/tandem/nf.h include/tandem/tandem.h $(wildcard user/nf/*.h) \
	       $(O)/nf_list.h $(NF_SRCS)

$(O)/nf/%.o: user/nf/%.c $(NF_HDRS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/nf
	$(Q)$(CC) $(CFLAGS) $(NF_CFLAGS) -Iuser/nf -c $< -o $@

$(NF_LIB): $(O)/nf/nf.o
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/tandem-nf-burn: $(O)/nf/burn.o $(NF_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NF_LIBS)

$(O)/tandem-nf-scan: $(O)/nf/scan.o $(O)/nf/scan_core.o $(NF_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NF_LIBS)

all: $(NF_LIB) $(NF_PROGS)

# scan's parts without a socket, under ASan and UBSan: the generated
# hostile packets must never read past a frame. No libtandem-nf needed.
# Not alignment: selftests/lib/pkt.h puts IP headers at offset 14, as on
# the wire (scan_core.c reads bytes only).
NF_TEST_SAN := -fsanitize=address,undefined -fno-sanitize=alignment \
	       -fno-sanitize-recover=all -fno-omit-frame-pointer

$(O)/selftests/test_nf_scan: selftests/test_nf_scan.c user/nf/scan_core.c \
		user/nf/build.mk $(NF_HDRS) $(wildcard selftests/lib/*.h)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/selftests
	$(Q)$(CC) $(CFLAGS) $(NF_TEST_SAN) $(NF_CFLAGS) -Iuser/nf -Iselftests \
		-o $@ selftests/test_nf_scan.c user/nf/scan_core.c \
		$(shell pkg-config --libs libhs 2>/dev/null || echo -lhs)

selftests-build: $(O)/selftests/test_nf_scan

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
NF_HDRS	    := include/tandem/nf.h include/tandem/tandem.h $(wildcard user/nf/*.h)

$(O)/nf/%.o: user/nf/%.c $(NF_HDRS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(O)/nf
	$(Q)$(CC) $(CFLAGS) $(NF_CFLAGS) -Iuser/nf -c $< -o $@

$(NF_LIB): $(O)/nf/nf.o
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(O)/tandem-nf-burn: $(O)/nf/burn.o $(NF_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NF_LIBS)

$(O)/tandem-nf-scan: $(O)/nf/scan.o $(O)/nf/scan_core.o $(NF_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(NF_LIBS)

all: $(NF_LIB) $(NF_PROGS)

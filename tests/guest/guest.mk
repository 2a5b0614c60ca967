# guest.mk - test kernels, the guest test runner, the bench and the demo;
# included by the top Makefile. Guests are built with the host gcc/binutils
# only: freestanding, linked at 1 MiB as ELF64 whose 32-bit entry is in
# lib/boot.S (.code32); `objcopy -O elf32-i386` gives the ELF32 variants.

GUEST_CC      ?= gcc
GUEST_OBJCOPY ?= objcopy
GUEST_OUT     := $(BUILD)/guest
GUEST_CFLAGS  := -m64 -O2 -g -std=gnu11 -ffreestanding -fno-pie -fno-pic -mno-red-zone -fno-stack-protector \
                 -mcmodel=small -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
                 -fcf-protection=none -Wall -Wextra -Wno-unused-parameter -Itests/guest/lib
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,tests/guest/lib/kernel.ld -Wl,--build-id=none \
                 -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
# Guests that use SSE registers on purpose; every other file stays general-registers-only.
GUEST_SSE     := sse

GUEST_LIB_OBJS := $(addprefix $(GUEST_OUT)/lib/,boot.o isr.o lib.o)
# The VMX helper library (lib/vmxlib.c) as an archive on every kernel's link line: the linker takes it
# only into kernels that call it.
GUEST_VMXLIB   := $(GUEST_OUT)/lib/vmxlib.a
GUEST_TESTS    := $(basename $(notdir $(wildcard tests/guest/*.c)))
GUEST_ELFS     := $(GUEST_TESTS:%=$(GUEST_OUT)/%.elf) $(GUEST_OUT)/hello.elf32 $(GUEST_OUT)/hello.bin $(GUEST_OUT)/bench.elf \
                  $(GUEST_OUT)/bench.elf32
guest_fpu_flags = $(if $(filter $(1),$(GUEST_SSE)),-msse4.2 -fno-math-errno,-mgeneral-regs-only)

.PHONY: guests guest-qemu
guests: $(GUEST_ELFS) $(GUEST_OUT)/bench-host
# keep the objects between builds (they are intermediate to the pattern rules)
.SECONDARY: $(GUEST_TESTS:%=$(GUEST_OUT)/%.o) $(patsubst tests/guest/%.S,$(GUEST_OUT)/%.o,$(wildcard tests/guest/*_asm.S)) \
            $(GUEST_TESTS:%=$(GUEST_OUT)/%-aout.elf)

$(GUEST_OUT)/lib/%.o: tests/guest/lib/%.S tests/guest/lib/guest_asm.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_OUT)/lib/%.o: tests/guest/lib/%.c tests/guest/lib/guest.h tests/guest/lib/guest_asm.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -mgeneral-regs-only -c $< -o $@
$(GUEST_OUT)/lib/vmxlib.o: tests/guest/lib/vmxlib.h vmx/vmcs_fields.def
$(GUEST_VMXLIB): $(GUEST_OUT)/lib/vmxlib.o
	rm -f $@
	ar rcs $@ $<
$(GUEST_OUT)/%_asm.o: tests/guest/%_asm.S tests/guest/lib/guest_asm.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_OUT)/%.o: tests/guest/%.c tests/guest/lib/guest.h tests/guest/lib/guest_asm.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(call guest_fpu_flags,$*) -c $< -o $@

# A test kernel NAME is NAME.c, plus NAME_asm.S when there is one.
$(foreach a,$(wildcard tests/guest/*_asm.S),$(eval $(GUEST_OUT)/$(notdir $(a:_asm.S=.elf)): $(GUEST_OUT)/$(notdir $(a:.S=.o))))
$(GUEST_OUT)/%.elf: $(GUEST_OUT)/%.o $(GUEST_LIB_OBJS) $(GUEST_VMXLIB) tests/guest/lib/kernel.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^)
$(GUEST_OUT)/%.elf32: $(GUEST_OUT)/%.elf
	$(GUEST_OBJCOPY) -O elf32-i386 $< $@
# A flat binary booted through the header's address fields (the a.out kludge).
$(GUEST_OUT)/lib/boot_aout.o: tests/guest/lib/boot.S tests/guest/lib/guest_asm.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -DMB_AOUT -c $< -o $@
$(GUEST_OUT)/%-aout.elf: $(GUEST_OUT)/%.o $(GUEST_OUT)/lib/boot_aout.o $(GUEST_OUT)/lib/isr.o $(GUEST_OUT)/lib/lib.o \
                         tests/guest/lib/kernel.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
$(GUEST_OUT)/%.bin: $(GUEST_OUT)/%-aout.elf
	$(GUEST_OBJCOPY) -O binary $< $@

# The bench: one workload (bench_core.c) built as a guest and as a host
# program, so the guest's results can be checked against the host's.
$(GUEST_OUT)/bench/%.o: tests/guest/bench/%.c tests/guest/bench/bench.h tests/guest/lib/guest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -mgeneral-regs-only -c $< -o $@
$(GUEST_OUT)/bench.elf: $(GUEST_OUT)/bench/bench.o $(GUEST_OUT)/bench/bench_core.o $(GUEST_LIB_OBJS) tests/guest/lib/kernel.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
# The VM-exit bench (issue 4): a hypervisor kernel, linked with the VMX library.
$(GUEST_OUT)/bench/vmexit.o: tests/guest/lib/vmxlib.h tests/guest/vmx_run.h vmx/vmcs_fields.def
$(GUEST_OUT)/bench/vmexit.elf: $(GUEST_OUT)/bench/vmexit.o $(GUEST_LIB_OBJS) $(GUEST_VMXLIB) tests/guest/lib/kernel.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^)
# For Bochs (tests/guest/bench/bochs.sh): the bench kernels as flat images (a.out kludge) and
# the option ROM that loads them; the ROM's last byte makes its bytes sum to 0 mod 256.
$(GUEST_OUT)/bench/%-aout.elf: $(GUEST_OUT)/bench/%.o $(GUEST_OUT)/lib/boot_aout.o $(GUEST_OUT)/lib/isr.o \
                               $(GUEST_OUT)/lib/lib.o tests/guest/lib/kernel.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^)
$(GUEST_OUT)/bench/bench-aout.elf: $(GUEST_OUT)/bench/bench_core.o
$(GUEST_OUT)/bench/vmexit-aout.elf: $(GUEST_VMXLIB)
$(GUEST_OUT)/bench/%.bin: $(GUEST_OUT)/bench/%-aout.elf
	$(GUEST_OBJCOPY) -O binary $< $@
$(GUEST_OUT)/bench/bochs_rom.bin: tests/guest/bench/bochs_rom.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -c $< -o $(@:.bin=.o)
	$(GUEST_OBJCOPY) -O binary -j .text $(@:.bin=.o) $@
	sum=$$(od -An -v -tu1 $@ | awk '{ for (i = 1; i <= NF; i++) s += $$i } END { print (256 - s % 256) % 256 }'); \
	  printf "\\$$(printf %o $$sum)" | dd of=$@ bs=1 seek=511 conv=notrunc status=none
$(GUEST_OUT)/bench-host: tests/guest/bench/host_main.c tests/guest/bench/bench_core.c tests/guest/bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -o $@ tests/guest/bench/host_main.c tests/guest/bench/bench_core.c

guest-test: $(BIN) guests
	tests/guest/run.sh $(BUILD)

# The same test kernels under QEMU, to check the tests themselves (not CI).
guest-qemu: guests
	tests/guest/qemu-check.sh $(BUILD)

bench: deps $(BIN) $(GUEST_OUT)/bench.elf $(GUEST_OUT)/bench.elf32 $(GUEST_OUT)/bench-host $(GUEST_OUT)/bench/vmexit.elf \
       $(GUEST_OUT)/bench/bench.bin $(GUEST_OUT)/bench/vmexit.bin $(GUEST_OUT)/bench/bochs_rom.bin
	tests/guest/bench/bench.sh $(BUILD)

# The demo (docs/demo.md): a hypervisor kernel launches a guest and handles its
# VM exits; demo.sh shows its serial output, then the VM entry/exit trace.
run: deps $(BIN) $(GUEST_OUT)/demo_vmx.elf
	tests/guest/demo.sh $(BUILD)

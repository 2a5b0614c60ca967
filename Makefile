# vmxemu - top-level build. `make run` boots the demo, `make test` runs every test.
# Objects go to build/, never into the source tree.

CC      ?= gcc
BUILD   ?= build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
           -I. -MMD -MP
LDLIBS  += -lcapstone -lreadline -lm

# Debian packages the build and the tests need (installed by `make deps`).
DEB_PKGS := libcapstone-dev libreadline-dev libcmocka-dev

LIB_DIRS := decoder emu vmx devices monitor
LIB_SRCS := $(filter-out monitor/main.c,$(wildcard $(addsuffix /*.c,$(LIB_DIRS))))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libvmxemu.a
BIN      := $(BUILD)/vmxemu

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test unit-test guest-test bench clean check-asan fuzz
all: deps $(BIN)

# Install missing Debian packages when root; otherwise print the exact command.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing packages; run: sudo apt-get install$$missing"; exit 1; fi; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/monitor/main.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

-include tests/guest/guest.mk

unit-test: deps $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

test: deps unit-test guest-test

# Unit and guest tests again, built into build-asan with AddressSanitizer and
# UBSan (any report fails the run). CFLAGS goes through the environment so the
# flags this Makefile appends are kept.
check-asan: deps
	CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  $(MAKE) BUILD=build-asan unit-test guest-test

# The loader fuzzer (libFuzzer, needs clang): make fuzz FUZZ_SECONDS=60
FUZZ_SECONDS ?= 30
fuzz: $(LIB)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -o $(BUILD)/fuzz_loader \
	  tests/fuzz/fuzz_loader.c devices/elf.c devices/multiboot.c devices/multiboot2.c $(LIB) $(LDLIBS)
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_loader -max_total_time=$(FUZZ_SECONDS) -max_len=16384 $(BUILD)/fuzz-corpus

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(BUILD)/monitor/main.d

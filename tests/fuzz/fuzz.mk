# fuzz.mk - libFuzzer build of the decoder fuzz target (tests/fuzz/fuzz_decoder.c).
# Not included by the main Makefile yet. Usage from the repository root:
#   make -f tests/fuzz/fuzz.mk fuzz            # build and run for FUZZ_TIME seconds
#   make -f tests/fuzz/fuzz.mk fuzz-build      # build only
FUZZ_CC    ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BUILD)/fuzz_decoder

$(FUZZ_BUILD)/fuzz_decoder: tests/fuzz/fuzz_decoder.c decoder/decode.c decoder/decode.h decoder/opcodes.def
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_decoder.c decoder/decode.c

fuzz: $(FUZZ_BUILD)/fuzz_decoder
	$(FUZZ_BUILD)/fuzz_decoder -max_total_time=$(FUZZ_TIME) -max_len=20 $(FUZZ_BUILD)/corpus

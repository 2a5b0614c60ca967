# badinput.sh - sourced by run.sh: vmxemu must refuse bad kernels and options
# with exactly one line on stderr and exit status 2 (docs/cli.md), never crash.
# Uses run.sh's EMU, G, LOG, ok and bad.
BAD=$G/bad
mkdir -p "$BAD"
rm -f "$BAD/missing.elf"
head -c 3000 "$G/hello.elf" >"$BAD/truncated.elf"
printf 'this is not a kernel\n' >"$BAD/text.bin"
# a valid ELF with its Multiboot header overwritten
cp "$G/hello.elf" "$BAD/noheader.elf"
off=$(od -A d -t x4 -w4 -v "$G/hello.elf" | awk '$2 == "1badb002" { print $1; exit }')
printf '\000\000\000\000' | dd of="$BAD/noheader.elf" bs=1 seek="$off" conv=notrunc 2>/dev/null

# expect NAME ARGS...: status 2 and a single stderr line starting "vmxemu: "
expect_refusal() {
    name=$1
    shift
    timeout 20 "$EMU" "$@" >"$LOG/bad-$name.out" 2>"$LOG/bad-$name.err"
    st=$?
    lines=$(wc -l <"$LOG/bad-$name.err")
    if [ "$st" -ne 2 ]; then
        bad "bad input: $name" "exit status $st, expected 2" "$LOG/bad-$name.err"
    elif [ "$lines" -ne 1 ] || ! grep -q '^vmxemu: ' "$LOG/bad-$name.err"; then
        bad "bad input: $name" "expected one 'vmxemu: ...' line on stderr" "$LOG/bad-$name.err"
    else
        ok "bad input: $name ($(cat "$LOG/bad-$name.err"))"
    fi
}

expect_refusal missing "$BAD/missing.elf"
expect_refusal truncated "$BAD/truncated.elf"
expect_refusal not-elf "$BAD/text.bin"
expect_refusal no-header "$BAD/noheader.elf"
expect_refusal unknown-option --frobnicate "$G/hello.elf"
head -c 3000000 /dev/zero >"$BAD/big.bin"
expect_refusal ram-too-small -m 2M -initrd "$BAD/big.bin" "$G/hello.elf"
expect_refusal bad-size -m 12X "$G/hello.elf"
expect_refusal no-kernel -m 64M
expect_refusal missing-module --module "$BAD/missing.bin" "$G/hello.elf"
expect_refusal unknown-cpu --cpu no-such-cpu "$G/hello.elf"

#!/bin/sh
# qemu-check.sh BUILD - run the test kernels of tests.list that pass with
# status 1 under qemu-system-x86_64 (TCG) as well, to check the tests
# themselves against a second implementation. QEMU boots only ELF32
# Multiboot kernels, so each ELF64 is converted first. Where QEMU departs
# from the SDM (docs/guest-tests.md) its failures are expected. Not part of
# `make test`: `make guest-qemu`.
BUILD=${1:-build}
G=$BUILD/guest
OUT=$G/qemu
mkdir -p "$OUT"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "qemu-system-x86_64: not installed"
    exit 0
fi
pass=0
fail=0
while read -r kernel expect args; do
    case "$kernel" in '' | '#'*) continue ;; esac
    [ "$expect" = 1 ] || continue # halt and triple-fault statuses are vmxemu's own
    case "$args" in *--cpu* | *expect=*) continue ;; esac # model-specific: QEMU is another CPU
    img=$OUT/${kernel%.elf}.img
    case "$kernel" in
    *.elf) objcopy -O elf32-i386 "$G/$kernel" "$img" ;;
    *) cp "$G/$kernel" "$img" ;;
    esac
    append=$(echo "$args" | sed -n 's/.*-append \([^ ]*\).*/\1/p')
    timeout 60 qemu-system-x86_64 -accel tcg -cpu max -m 128 -display none -no-reboot \
        -chardev stdio,id=out,mux=on -serial chardev:out -device isa-debugcon,iobase=0xe9,chardev=out \
        -device isa-debug-exit,iobase=0xf4,iosize=0x01 -kernel "$img" ${append:+-append "$append"} \
        </dev/null >"$OUT/$kernel.out" 2>&1
    st=$?
    if [ "$st" -eq 1 ]; then
        pass=$((pass + 1))
        echo "PASS $kernel"
    else
        fail=$((fail + 1))
        echo "FAIL $kernel: exit status $st"
        grep -E 'FAIL|UNEXPECTED' "$OUT/$kernel.out" | sed 's/^/    | /'
    fi
done <"$(dirname "$0")/tests.list"
echo "qemu: $pass passed, $fail failed"

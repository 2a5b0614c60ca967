#!/bin/sh
# bench.sh BUILD - run the bench guest under vmxemu with --stats, check its
# results against the same workload run natively, and print the emulator's
# speed in MIPS (guest instructions retired per host second). If QEMU or
# Bochs are installed, their figure on the same guest is shown beside it
# (Bochs through bochs.sh, also for the VM-exit bench).
# BENCH_ITERS sets the work (default 10). Then the VM-exit bench (vmexit.c):
# a hypervisor guest whose nested guest loops on CPUID, each an exit that the
# host steps over and resumes; round trips per host second (also with the
# VMX-preemption timer armed at every entry), BENCH_ROUNDS of
# them (default 100000). Not part of `make test`.
BUILD=${1:-build}
G=$BUILD/guest
ITERS=${BENCH_ITERS:-10}
ROUNDS=${BENCH_ROUNDS:-100000}
OUT=$G/logs
mkdir -p "$OUT"

"$G/bench-host" "$ITERS" >"$OUT/bench-host.out"
"$BUILD/vmxemu" --stats -append "iters=$ITERS" "$G/bench.elf" >"$OUT/bench.out" 2>"$OUT/bench.err"
st=$?
if [ "$st" -ne 1 ]; then
    echo "bench: vmxemu exit status $st (expected 1)"
    tail -n 20 "$OUT/bench.err"
    exit 1
fi
if ! cmp -s "$OUT/bench.out" "$OUT/bench-host.out"; then
    echo "bench: guest results differ from the host's:"
    diff "$OUT/bench-host.out" "$OUT/bench.out"
    exit 1
fi
insns=$(sed -n 's/^instructions: //p' "$OUT/bench.err")
cycles=$(sed -n 's/^cycles: //p' "$OUT/bench.err")
secs=$(sed -n 's/^host seconds: //p' "$OUT/bench.err")
mips=$(sed -n 's/^host MIPS: //p' "$OUT/bench.err")
echo "bench: $ITERS iterations, results match the host"
printf '%-22s %14s %14s %9s %9s\n' emulator instructions cycles seconds MIPS
printf '%-22s %14s %14s %9s %9s\n' vmxemu "$insns" "$cycles" "$secs" "$mips"

# Other emulators: the same guest, timed from the outside; their MIPS is
# vmxemu's instruction count over their wall time (same guest work).
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
    t0=$(date +%s.%N)
    timeout 300 qemu-system-x86_64 -accel tcg -display none -serial file:"$OUT/bench-qemu.out" -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x01 -kernel "$G/bench.elf32" -append "iters=$ITERS" \
        >/dev/null 2>&1
    t1=$(date +%s.%N)
    qs=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
    qm=$(echo "$insns $qs" | awk '{ printf "%.2f", ($2 > 0) ? $1 / $2 / 1e6 : 0 }')
    if cmp -s "$OUT/bench-qemu.out" "$OUT/bench-host.out"; then
        printf '%-22s %14s %14s %9s %9s  (wall time, including start-up)\n' "qemu-system-x86_64" "-" "-" "$qs" "$qm"
    else
        echo "qemu-system-x86_64: the bench did not produce the host's results; no figure"
    fi
else
    echo "qemu-system-x86_64: not installed"
fi
# Bochs has no -kernel: bochs.sh boots the flat image through an option ROM.
have_bochs=no
if command -v bochs >/dev/null 2>&1 && [ -f /usr/share/bochs/BIOS-bochs-latest ] &&
   [ -f /usr/share/bochs/VGABIOS-lgpl-latest ]; then
    have_bochs=yes
    bs=$(tests/guest/bench/bochs.sh "$BUILD" "$G/bench/bench.bin" "iters=$ITERS" "$OUT/bench-bochs.out")
    bm=$(echo "$insns $bs" | awk '{ printf "%.2f", ($2 > 0) ? $1 / $2 / 1e6 : 0 }')
    if cmp -s "$OUT/bench-bochs.out" "$OUT/bench-host.out"; then
        printf '%-22s %14s %14s %9s %9s  (wall time, including start-up)\n' "bochs" "-" "-" "$bs" "$bm"
    else
        echo "bochs: the bench did not produce the host's results; no figure"
    fi
else
    echo "bochs: not installed (apt-get install bochs bochsbios vgabios)"
fi

# VM-exit round trips: guest CPUID -> exit -> host advances RIP -> VMRESUME.
"$BUILD/vmxemu" --cpu skylake-server-vmx --stats -append "rounds=$ROUNDS" "$G/bench/vmexit.elf" \
    >"$OUT/vmexit.out" 2>"$OUT/vmexit.err"
st=$?
done_rounds=$(sed -n 's/^rounds //p' "$OUT/vmexit.out")
if [ "$st" -ne 1 ] || [ "$done_rounds" != "$ROUNDS" ]; then
    echo "bench: VM-exit bench failed (vmxemu exit status $st, expected 1; rounds '$done_rounds', expected $ROUNDS)"
    tail -n 20 "$OUT/vmexit.out" "$OUT/vmexit.err"
    exit 1
fi
vinsns=$(sed -n 's/^instructions: //p' "$OUT/vmexit.err")
vsecs=$(sed -n 's/^host seconds: //p' "$OUT/vmexit.err")
echo "$ROUNDS $vinsns $vsecs" | awk '{
    printf "VM-exit round trips per second (no VPID): %.0f  (%d rounds in %.3f host seconds, %.1f guest instructions per round trip, hypervisor and its guest)\n",
        ($3 > 0) ? $1 / $3 : 0, $1, $3, $2 / $1 }'
# Bochs on the same hypervisor kernel (its skylake-x model has VMX): wall time
# of N rounds minus that of 1 round, so start-up does not count.
if [ "$have_bochs" = yes ]; then
    b1=$(tests/guest/bench/bochs.sh "$BUILD" "$G/bench/vmexit.bin" "rounds=1" "$OUT/vmexit-bochs1.out")
    bn=$(tests/guest/bench/bochs.sh "$BUILD" "$G/bench/vmexit.bin" "rounds=$ROUNDS" "$OUT/vmexit-bochs.out")
    if grep -q "^rounds $ROUNDS\$" "$OUT/vmexit-bochs.out" && grep -q "^rounds 1\$" "$OUT/vmexit-bochs1.out"; then
        echo "$ROUNDS $b1 $bn" | awk '{ d = $3 - $2
            printf "VM-exit round trips per second, bochs (no VPID): %.0f  (wall time of %d rounds minus 1 round: %.3f s)\n",
                (d > 0) ? ($1 - 1) / d : 0, $1, d }'
    else
        echo "bochs: the VM-exit bench did not complete; no figure"
    fi
fi
# vmexit_variant WORDS LABEL: the same bench with WORDS on the kernel's command
# line (vmexit.c): "timer" arms the VMX-preemption timer at every entry (it
# never expires here), "vpid" runs the guest as VPID 1 (its and the host's TLB
# contexts survive the round trips), "ept" puts the guest on an identity EPT.
vmexit_variant() {
    f=$OUT/vmexit-$(echo "$1" | tr ' ' -)
    "$BUILD/vmxemu" --cpu skylake-server-vmx --stats -append "rounds=$ROUNDS $1" "$G/bench/vmexit.elf" \
        >"$f.out" 2>"$f.err"
    if [ $? -eq 1 ] && grep -q "^rounds $ROUNDS\$" "$f.out"; then
        s=$(sed -n 's/^host seconds: //p' "$f.err")
        echo "$ROUNDS $s" | awk -v l="$2" '{ printf "VM-exit round trips per second (%s): %.0f  (%d rounds in %.3f host seconds)\n",
            l, ($2 > 0) ? $1 / $2 : 0, $1, $2 }'
    else
        echo "bench: VM-exit bench ($2) failed"; tail -n 20 "$f.out"; exit 1
    fi
}
vmexit_variant vpid "VPID"
vmexit_variant timer "preemption timer armed"
vmexit_variant ept "EPT, identity map"
vmexit_variant "ept vpid" "EPT and VPID"

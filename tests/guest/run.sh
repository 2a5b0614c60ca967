#!/bin/sh
# run.sh BUILD - run the guest test kernels under BUILD/vmxemu and check each
# exit status against tests.list; then the determinism check (one kernel run
# twice: serial output and --stats counts must match byte for byte; the same
# for the 4-vCPU SMP test) and the
# bad-input checks (badinput.sh). Ends with the line "N passed, N failed".
# Environment: GUEST_MAX_CYCLES (default 500000000; the tests need far less), GUEST_TIMEOUT seconds (120).
BUILD=${1:-build}
EMU=$BUILD/vmxemu
G=$BUILD/guest
LOG=$G/logs
MAXCYC=${GUEST_MAX_CYCLES:-500000000}
TIMEOUT=${GUEST_TIMEOUT:-120}
HERE=$(dirname "$0")
mkdir -p "$LOG"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL $1: $2"
    for f in $3; do [ -s "$f" ] && sed 's/^/    | /' "$f" | tail -n 25; done
}

# run NAME LOGNAME ARGS...: run the emulator, status in $st
run() {
    name=$1 logname=$2
    shift 2
    timeout "$TIMEOUT" "$EMU" --max-cycles "$MAXCYC" "$@" >"$LOG/$logname.out" 2>"$LOG/$logname.err"
    st=$?
}

# ---- the kernels of tests.list: KERNEL STATUS [ARGS...] ----
line=0
while read -r kernel expect args; do
    line=$((line + 1))
    case "$kernel" in '' | '#'*) continue ;; esac
    tname="$kernel${args:+ $args}"
    lg="$kernel.$line"
    # shellcheck disable=SC2086 # args are words by design
    run "$kernel" "$lg" $args "$G/$kernel"
    if [ "$st" -eq "$expect" ]; then
        ok "$tname"
    elif [ "$st" -eq 124 ]; then
        bad "$tname" "timed out after ${TIMEOUT}s" "$LOG/$lg.out $LOG/$lg.err"
    else
        bad "$tname" "exit status $st, expected $expect" "$LOG/$lg.out $LOG/$lg.err"
    fi
done <"$HERE/tests.list"

# ---- determinism: same kernel, same input, twice ----
# det TAG KERNEL ARGS...: run KERNEL with --stats, keeping its status and counts under TAG
det() {
    tag=$1 kern=$2
    shift 2
    run "$kern" "$tag" --stats "$@" "$G/$kern"
    echo "$st" >"$LOG/$tag.status"
    grep -E '^(instructions|cycles):' "$LOG/$tag.err" >"$LOG/$tag.counts"
}
# same_runs NAME TAG1 TAG2: both runs passed with identical output, status and counts
same_runs() {
    name=$1 a=$2 b=$3
    if [ "$(cat "$LOG/$a.status")" != 1 ]; then
        bad "$name" "first run exit status $(cat "$LOG/$a.status"), expected 1" "$LOG/$a.out $LOG/$a.err"
    elif ! [ -s "$LOG/$a.counts" ]; then
        bad "$name" "no --stats counts" "$LOG/$a.err"
    elif cmp -s "$LOG/$a.out" "$LOG/$b.out" && cmp -s "$LOG/$a.counts" "$LOG/$b.counts" &&
        cmp -s "$LOG/$a.status" "$LOG/$b.status"; then
        ok "$name ($(tr '\n' ' ' <"$LOG/$a.counts"))"
    else
        bad "$name" "two runs differ" "$LOG/$a.counts $LOG/$b.counts"
    fi
}
det det1 bench.elf -append "iters=1"
det det2 bench.elf -append "iters=1"
same_runs determinism det1 det2
# four vCPUs taking turns: the SMP test's output must not depend on the host
det smpdet1 smp.elf -smp 4
det smpdet2 smp.elf -smp 4
same_runs "determinism, 4 vCPUs" smpdet1 smpdet2

# ---- the VMX demo of `make run`: its whole trace against tests/guest/golden/demo_vmx.jsonl ----
if out=$("$HERE/demo-golden.sh" "$BUILD" 2>&1); then ok "demo-golden (demo_vmx.elf trace)"; else
    echo "$out" >"$LOG/demo-golden.err"; bad "demo-golden (demo_vmx.elf trace)" "see below" "$LOG/demo-golden.err"; fi
# ---- the VMX-preemption timer: each exit at its expiry cycle, the trace as golden ----
if out=$("$HERE/timer-golden.sh" "$BUILD" 2>&1); then ok "timer-golden (vmx_timer.elf trace)"; else
    echo "$out" >"$LOG/timer-golden.err"; bad "timer-golden (vmx_timer.elf trace)" "see below" "$LOG/timer-golden.err"; fi

# ---- the command line seen from the guest (hello prints what it got) ----
# expect_out NAME PATTERN...: the last run's serial output holds every pattern
expect_out() {
    name=$1
    shift
    for p in "$@"; do
        if ! grep -qF -- "$p" "$LOG/$name.out"; then
            bad "$name" "output lacks '$p' (status $st)" "$LOG/$name.out $LOG/$name.err"
            return
        fi
    done
    ok "$name"
}
printf 'M' >"$LOG/mod-a.bin"
printf 'N' >"$LOG/mod-b.bin"
run hello.elf cli-modules -m 5G -append "a b=c" --module "$LOG/mod-a.bin,x=1 y" -initrd "$LOG/mod-b.bin" "$G/hello.elf"
expect_out cli-modules "command line: $G/hello.elf a b=c" "module 0: '$LOG/mod-a.bin x=1 y' 1 bytes, first byte 0x4d" \
    "module 1: '$LOG/mod-b.bin' 1 bytes, first byte 0x4e" "mmap: 0x100000-0xc0000000 type 1" \
    "mmap: 0x100000000-0x180000000 type 1" "debug console: ok" "0 failed"
run hello.elf cli-serial-file --serial "file:$LOG/serial.txt" "$G/hello.elf"
cp "$LOG/serial.txt" "$LOG/cli-serial-file.out" 2>/dev/null
expect_out cli-serial-file "Hello from vmxemu" "debug console: ok"
run hello.elf cli-serial-none --serial none "$G/hello.elf"
if [ "$st" -eq 1 ] && ! [ -s "$LOG/cli-serial-none.out" ]; then ok cli-serial-none; else
    bad cli-serial-none "status $st, or output despite --serial none" "$LOG/cli-serial-none.out"; fi
run hello.elf cli-cycle-limit --max-cycles 5000 "$G/hello.elf"
if [ "$st" -eq 8 ]; then ok cli-cycle-limit; else bad cli-cycle-limit "status $st, expected 8" "$LOG/cli-cycle-limit.err"; fi

# ---- bad input: one clear line, the documented status, no crash ----
. "$HERE/badinput.sh"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

# ==== monitor and gdbstub (tests/monitor/, owned by the monitor) ====
# Appended after the summary above, which stays as it was: the scripted REPL
# session and the gdb batch session add to the same counts, and the line
# below is the final "N passed, N failed".
. "$HERE/../monitor/run.sh"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

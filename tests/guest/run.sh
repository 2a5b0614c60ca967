#!/bin/sh
# run.sh BUILD - run the guest test kernels under BUILD/vmxemu and check each
# exit status against tests.list; then the determinism check (one kernel run
# twice: serial output and --stats counts must match byte for byte) and the
# bad-input checks (badinput.sh). Ends with the line "N passed, N failed".
# Environment: GUEST_MAX_CYCLES (default 4000000000), GUEST_TIMEOUT seconds (120).
BUILD=${1:-build}
EMU=$BUILD/vmxemu
G=$BUILD/guest
LOG=$G/logs
MAXCYC=${GUEST_MAX_CYCLES:-4000000000}
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
while read -r kernel expect args; do
    case "$kernel" in '' | '#'*) continue ;; esac
    # shellcheck disable=SC2086 # args are words by design
    run "$kernel" "$kernel" $args "$G/$kernel"
    if [ "$st" -eq "$expect" ]; then
        ok "$kernel"
    elif [ "$st" -eq 124 ]; then
        bad "$kernel" "timed out after ${TIMEOUT}s" "$LOG/$kernel.out $LOG/$kernel.err"
    else
        bad "$kernel" "exit status $st, expected $expect" "$LOG/$kernel.out $LOG/$kernel.err"
    fi
done <"$HERE/tests.list"

# ---- determinism: same kernel, same input, twice ----
det() {
    run bench.elf "det$1" --stats -append "iters=1" "$G/bench.elf"
    echo "$st" >"$LOG/det$1.status"
    grep -E '^(instructions|cycles):' "$LOG/det$1.err" >"$LOG/det$1.counts"
}
det 1
det 2
if [ "$(cat "$LOG/det1.status")" != 1 ]; then
    bad determinism "first run exit status $(cat "$LOG/det1.status"), expected 1" "$LOG/det1.out $LOG/det1.err"
elif ! [ -s "$LOG/det1.counts" ]; then
    bad determinism "no --stats counts" "$LOG/det1.err"
elif cmp -s "$LOG/det1.out" "$LOG/det2.out" && cmp -s "$LOG/det1.counts" "$LOG/det2.counts" &&
    cmp -s "$LOG/det1.status" "$LOG/det2.status"; then
    ok "determinism ($(tr '\n' ' ' <"$LOG/det1.counts"))"
else
    bad determinism "two runs differ" "$LOG/det1.counts $LOG/det2.counts"
fi

# ---- bad input: one clear line, the documented status, no crash ----
. "$HERE/badinput.sh"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# timer-golden.sh [--update] BUILD - run vmx_timer.elf (tests/guest/vmx_timer.c)
# at preemption-timer rate 3 with --trace, check that every VMX-preemption timer
# exit (reason 52) comes exactly at the timer_expiry_cycle its VM entry
# announced (the guest runs one-cycle instructions only, so the first
# instruction boundary at or after the expiry is the expiry itself), and compare
# the whole trace byte for byte with tests/guest/golden/vmx_timer.jsonl.
# A change to the kernel, its library (tests/guest/lib) or the emulator's timing
# changes the trace: check the diff, then accept it with --update, which writes
# the golden file instead (after the expiry checks). Status: 0 good, 1 a check or the
# comparison failed (the reason is printed), 2 the run itself failed.
update=0
[ "$1" = --update ] && update=1 && shift
BUILD=${1:-build}
GOLDEN=$(dirname "$0")/golden/vmx_timer.jsonl
mkdir -p "$BUILD/guest/logs"
TRACE=$(cd "$BUILD/guest/logs" && pwd)/vmx_timer.trace.jsonl
EMU=$(cd "$BUILD" && pwd)/vmxemu
# run from the kernel's directory: the kernel's command line starts with the file
# name as given, and its length changes the boot's cycle counts
(cd "$BUILD/guest" && "$EMU" --cpu skylake-server-vmx --preemption-timer-rate 3 --trace "$TRACE" -append rate=3 \
    vmx_timer.elf >/dev/null)
st=$?
if [ "$st" -ne 1 ]; then
    echo "timer-golden: vmx_timer.elf ended with status $st, expected 1"
    exit 2
fi
# each timer exit's cycle against the expiry of the entry before it
bad=$(awk '
    /"event":"vmentry"/ { want = ""; if (match($0, /"timer_expiry_cycle":[0-9]+/)) want = substr($0, RSTART + 21, RLENGTH - 21) }
    /"event":"vmexit"/ && /"reason":52,/ {
        n++
        match($0, /"cycle":[0-9]+/); cyc = substr($0, RSTART + 8, RLENGTH - 8)
        if (want == "" || cyc != want) print "line " NR ": timer exit at cycle " cyc ", expiry " want
    }
    END { if (n < 5) print "only " n " timer exits" }' "$TRACE")
if [ -n "$bad" ]; then
    echo "timer-golden: $bad"
    exit 1
fi
if [ "$update" = 1 ]; then
    cp "$TRACE" "$GOLDEN" && echo "timer-golden: wrote $GOLDEN"
    exit $?
fi
if ! cmp -s "$TRACE" "$GOLDEN"; then
    echo "timer-golden: the trace differs from $GOLDEN:"
    diff "$GOLDEN" "$TRACE" | head -20 | sed 's/^/    /'
    exit 1
fi

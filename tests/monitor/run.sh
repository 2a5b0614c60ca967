# run.sh - the monitor's tests, sourced at the end of tests/guest/run.sh (uses
# its EMU, G, LOG, HERE, ok and bad): a scripted REPL session over hello.elf
# checked against session.expect, the session's exit status, one over
# vmx_entry_exit.elf (vmx_session.expect), and a gdb batch session through the
# gdbstub (gdb.sh).
MON=$HERE/../monitor

# in_order TRANSCRIPT EXPECT: every line of EXPECT occurs in TRANSCRIPT as a
# substring of some line, in order; prints the first one missing.
in_order() {
    awk 'NR == FNR { want[n++] = $0; next }
         i < n && index($0, want[i]) { i++ }
         END { if (i < n) { print want[i]; exit 1 } }' "$2" "$1"
}

tm=$(nm "$G/hello.elf" | awk '$3 == "test_main" { print $1 }')
if [ -z "$tm" ]; then
    bad "monitor session" "no test_main symbol in $G/hello.elf"
else
    subst="s/@TM@/$(printf '%#x' "0x$tm")/g; s/@TM18@/$(printf '%#018x' "0x$tm")/g; s/@TM16@/$(printf '%016x' "0x$tm")/g"
    sed "$subst" "$MON/session.cmd" >"$LOG/monitor-session.cmd"
    sed "$subst" "$MON/session.expect" >"$LOG/monitor-session.expect"
    timeout "$TIMEOUT" "$EMU" --serial none --cpu skylake-server-novmx --monitor-script "$LOG/monitor-session.cmd" "$G/hello.elf" \
        >"$LOG/monitor-session.out" 2>"$LOG/monitor-session.err"
    st=$?
    if ! missing=$(in_order "$LOG/monitor-session.out" "$LOG/monitor-session.expect"); then
        bad "monitor session" "transcript lacks '$missing' (status $st)" "$LOG/monitor-session.out"
    elif [ "$st" -ne 1 ] || [ -s "$LOG/monitor-session.err" ]; then
        bad "monitor session" "exit status $st (expected the guest's 1), or stderr output" "$LOG/monitor-session.err"
    else
        ok "monitor session (stepping, breakpoints on address/MSR/I/O/cycle, watchpoint, registers, memory, page walk, errors)"
    fi
fi

# Commands from stdin when it is not a terminal; quitting while stopped exits 14.
printf 'step 2\nquit\n' | timeout "$TIMEOUT" "$EMU" --serial none --monitor "$G/hello.elf" \
    >"$LOG/monitor-stdin.out" 2>"$LOG/monitor-stdin.err"
st=$?
if [ "$st" -eq 14 ] && grep -q '^stopped: step (cpu0, cycle 2)' "$LOG/monitor-stdin.out"; then
    ok "monitor from stdin, quit status 14"
else
    bad "monitor from stdin" "status $st (expected 14) or no step report" "$LOG/monitor-stdin.out $LOG/monitor-stdin.err"
fi

# Ctrl-C (SIGINT) while the guest runs returns to the monitor. --foreground:
# timeout then passes our one SIGINT to vmxemu only, not again to its group.
printf 'continue\ncycles\nquit\n' | timeout --foreground "$TIMEOUT" "$EMU" --serial none --monitor "$G/bench.elf" \
    -append iters=1000000000 >"$LOG/monitor-int.out" 2>"$LOG/monitor-int.err" &
emu=$!
# once the monitor has started the run (its echo of the command is flushed first)
for _ in $(seq 100); do
    grep -q '^> continue' "$LOG/monitor-int.out" 2>/dev/null && break
    sleep 0.1
done
# Under load a SIGINT has been seen to go unanswered (suspected: the handler's
# STOP_MONITOR lost to a read-modify-write of cpu_t.stop in emu/run.c), so
# press Ctrl-C again, as a user would, until the monitor reports the stop.
for _ in $(seq 20); do
    sleep 0.5
    kill -INT "$emu" 2>/dev/null || break
    sleep 1
    grep -q '^stopped: interrupted' "$LOG/monitor-int.out" 2>/dev/null && break
done
wait "$emu"
st=$?
if [ "$st" -eq 14 ] && grep -q '^stopped: interrupted (cpu0' "$LOG/monitor-int.out" && grep -q '^cpu0 cycles=' "$LOG/monitor-int.out"; then
    ok "monitor Ctrl-C stops the running guest"
else
    bad "monitor Ctrl-C" "status $st (expected 14) or no 'stopped: interrupted'" "$LOG/monitor-int.out $LOG/monitor-int.err"
fi

# Exception breakpoints: exceptions.elf raises #UD (ud2) before #BP (int3).
printf 'break exc 6\ncontinue\ndelete 1\nbreak exc 3\ncontinue\ninfo break\nquit\n' | timeout "$TIMEOUT" "$EMU" --serial none \
    --monitor "$G/exceptions.elf" >"$LOG/monitor-exc.out" 2>"$LOG/monitor-exc.err"
printf 'exception 6 delivered\nexception 3 delivered\n2   exception      0x3 hits=1\n' \
    >"$LOG/monitor-exc.expect"
if missing=$(in_order "$LOG/monitor-exc.out" "$LOG/monitor-exc.expect"); then
    ok "monitor exception breakpoints (#UD, #BP)"
else
    bad "monitor exception breakpoints" "transcript lacks '$missing'" "$LOG/monitor-exc.out $LOG/monitor-exc.err"
fi

# info cpu on a model with VMX decodes the capability MSRs by control name.
printf 'info cpu\nquit\n' | timeout "$TIMEOUT" "$EMU" --serial none --cpu skylake-server-vmx --monitor "$G/hello.elf" \
    >"$LOG/monitor-vmxcaps.out" 2>"$LOG/monitor-vmxcaps.err"
printf 'VMX: IA32_VMX_BASIC=\npin-based controls (MSR 0x48d\nprimary processor-based controls (MSR 0x48e\nVM-entry controls (MSR 0x490\n' \
    >"$LOG/monitor-vmxcaps.expect"
if missing=$(in_order "$LOG/monitor-vmxcaps.out" "$LOG/monitor-vmxcaps.expect"); then
    ok "monitor info cpu: VMX capabilities decoded"
else
    bad "monitor info cpu (VMX model)" "output lacks '$missing'" "$LOG/monitor-vmxcaps.out $LOG/monitor-vmxcaps.err"
fi

# VMX: a scripted session over vmx_entry_exit.elf (vmx_session.cmd/.expect):
# until entry/exit, explain of exits and of one failed check per class, vmcs
# diff, exits, VM breakpoints. The vmcs diff before VMRESUME must list exactly
# the one field the host handler wrote (GUEST_RIP).
VG=$G/vmx_entry_exit.elf
gm=$(nm "$VG" | awk '$3 == "guest_main" { print $1 }')
vr=$(objdump -d "$VG" | awk '/\tvmresume/ { sub(":", "", $1); print $1; exit }')
if [ -z "$gm" ] || [ -z "$vr" ]; then
    bad "monitor VMX session" "no guest_main symbol or VMRESUME instruction in $VG"
else
    hex() { printf '%#x' $((0x$gm + $1)); }
    hex18() { printf '%#018x' $((0x$gm + $1)); }
    subst="s/@GM@/$(hex 0)/g; s/@GM18@/$(hex18 0)/g; s/@GM+2@/$(hex 2)/g; s/@GM+3@/$(hex 3)/g;
           s/@GM+2_18@/$(hex18 2)/g; s/@GM+5_18@/$(hex18 5)/g; s/@VMRESUME@/0x$vr/g"
    sed "$subst" "$MON/vmx_session.cmd" >"$LOG/monitor-vmx.cmd"
    sed "$subst" "$MON/vmx_session.expect" >"$LOG/monitor-vmx.expect"
    timeout "$TIMEOUT" "$EMU" --cpu skylake-server-vmx --serial none --monitor-script "$LOG/monitor-vmx.cmd" "$VG" \
        >"$LOG/monitor-vmx.out" 2>"$LOG/monitor-vmx.err"
    st=$?
    # the lines between "> vmcs diff" and the next command
    difflines=$(awk '/^> / { on = ($0 == "> vmcs diff") ; next } on' "$LOG/monitor-vmx.out" | wc -l)
    if ! missing=$(in_order "$LOG/monitor-vmx.out" "$LOG/monitor-vmx.expect"); then
        bad "monitor VMX session" "transcript lacks '$missing' (status $st)" "$LOG/monitor-vmx.out"
    elif [ "$difflines" -ne 2 ]; then
        bad "monitor VMX session" "vmcs diff shows $((difflines - 1)) fields, expected only GUEST_RIP" "$LOG/monitor-vmx.out"
    elif [ "$st" -ne 1 ] || [ -s "$LOG/monitor-vmx.err" ]; then
        bad "monitor VMX session" "exit status $st (expected the guest's 1), or stderr output" "$LOG/monitor-vmx.err"
    else
        ok "monitor VMX session (until entry/exit, explain of exits and failed checks, vmcs diff, exits, VM breakpoints)"
    fi
fi

# EPT: `ept GPA` over vmx_ept.elf at its first VM entry (ept_session.cmd/.expect)
EG=$G/vmx_ept.elf
timeout "$TIMEOUT" "$EMU" --cpu skylake-server-vmx --serial none --monitor-script "$MON/ept_session.cmd" "$EG" \
    >"$LOG/monitor-ept.out" 2>"$LOG/monitor-ept.err"
st=$?
if ! missing=$(in_order "$LOG/monitor-ept.out" "$MON/ept_session.expect"); then
    bad "monitor ept" "transcript lacks '$missing' (status $st)" "$LOG/monitor-ept.out"
elif [ "$st" -ne 1 ] || [ -s "$LOG/monitor-ept.err" ]; then
    bad "monitor ept" "exit status $st (expected the guest's 1), or stderr output" "$LOG/monitor-ept.err"
else
    ok "monitor ept (EPT walk of 4K, 2M, 1G and not-present translations from the current VMCS)"
fi

. "$MON/gdb.sh"

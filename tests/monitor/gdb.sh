# gdb.sh - sourced by tests/monitor/run.sh: the real gdb in batch mode against
# `vmxemu -gdb tcp::PORT -S -smp 2 hello.elf` (gdb.gdb), its output checked
# against gdb.expect in order; the emulator must end with the guest's status.
# Then Ctrl-C: SIGINT to gdb while the guest runs must stop it.
if ! command -v gdb >/dev/null 2>&1; then
    bad "gdb session" "gdb is not installed"
else
    tmx=$(printf '%#x' "0x$tm")
    sed "s/@TM@/$tmx/g" "$MON/gdb.expect" >"$LOG/gdb.expect"
    started=
    for try in 1 2 3 4 5; do
        port=$((20000 + ($$ * 7 + try * 1031) % 40000))
        timeout "$TIMEOUT" "$EMU" --serial none -smp 2 -gdb "tcp::$port" -S "$G/hello.elf" \
            >"$LOG/gdb-emu.out" 2>"$LOG/gdb-emu.err" &
        emu=$!
        for _ in $(seq 50); do
            grep -q 'waiting for gdb' "$LOG/gdb-emu.err" 2>/dev/null && started=1 && break
            kill -0 "$emu" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$started" ] && break
        wait "$emu" 2>/dev/null
    done
    if [ -z "$started" ]; then
        bad "gdb session" "the gdb server did not start" "$LOG/gdb-emu.err"
    else
        timeout "$TIMEOUT" gdb -nx -batch -ex "set remotetimeout 120" -ex "target remote 127.0.0.1:$port" -x "$MON/gdb.gdb" "$G/hello.elf" \
            >"$LOG/gdb.out" 2>&1
        wait "$emu"
        st=$?
        if ! missing=$(in_order "$LOG/gdb.out" "$LOG/gdb.expect"); then
            bad "gdb session" "gdb output lacks '$missing'" "$LOG/gdb.out $LOG/gdb-emu.err"
        elif [ "$st" -ne 1 ]; then
            bad "gdb session" "emulator exit status $st, expected the guest's 1" "$LOG/gdb-emu.err"
        else
            ok "gdb session (breakpoint at a symbol, registers, memory, monitor commands, stepi, threads, watchpoint)"
        fi
    fi
fi

# Ctrl-C: gdb turns SIGINT into the 0x03 byte; the stub stops the running guest.
if command -v gdb >/dev/null 2>&1; then
    port=$((20000 + ($$ * 11 + 7919) % 40000))
    timeout "$TIMEOUT" "$EMU" --serial none -gdb "tcp::$port" -S "$G/bench.elf" -append iters=1000000000 \
        >"$LOG/gdb-int-emu.out" 2>"$LOG/gdb-int-emu.err" &
    emu=$!
    for _ in $(seq 50); do
        grep -q 'waiting for gdb' "$LOG/gdb-int-emu.err" 2>/dev/null && break
        sleep 0.1
    done
    # --foreground: without it timeout passes our SIGINT to gdb and again to its
    # whole process group, and a second Ctrl-C makes gdb give up on the target
    timeout --foreground "$TIMEOUT" gdb -nx -batch -ex "set remotetimeout 120" -ex "target remote 127.0.0.1:$port" -ex continue -ex 'monitor cycles' -ex kill \
        "$G/bench.elf" >"$LOG/gdb-int.out" 2>&1 &
    gdbpid=$!
    # interrupt once gdb has connected and the guest runs
    for _ in $(seq 100); do
        grep -q 'boot.S' "$LOG/gdb-int.out" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.5
    kill -INT "$gdbpid"
    wait "$gdbpid"
    wait "$emu"
    st=$?
    printf 'Program received signal SIGINT\ncpu0 cycles=\n' >"$LOG/gdb-int.expect"
    if ! missing=$(in_order "$LOG/gdb-int.out" "$LOG/gdb-int.expect"); then
        bad "gdb Ctrl-C" "gdb output lacks '$missing'" "$LOG/gdb-int.out $LOG/gdb-int-emu.err"
    elif [ "$st" -ne 14 ]; then
        bad "gdb Ctrl-C" "emulator exit status $st, expected 14 (killed while stopped)" "$LOG/gdb-int-emu.err"
    else
        ok "gdb Ctrl-C stops the running guest"
    fi
fi

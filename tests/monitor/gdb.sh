# gdb.sh - sourced by tests/monitor/run.sh: the real gdb in batch mode against
# `vmxemu -gdb tcp::PORT -S -smp 2 hello.elf` (gdb.gdb), its output checked
# against gdb.expect in order; the emulator must end with the guest's status.
# The same over vmx_entry_exit.elf on skylake-server-vmx (gdb_vmx.gdb). Then
# Ctrl-C: SIGINT to gdb while the guest runs must stop it.

# gdb_server NAME ARGS...: start `vmxemu --serial none -gdb tcp::PORT -S ARGS` on a
# port that is free (a few tries), output in $LOG/NAME-emu.{out,err}; sets port,
# emu (its pid) and started (empty if it never listened).
gdb_server() {
    name=$1
    shift
    started=
    for try in 1 2 3 4 5; do
        port=$((20000 + ($$ * 7 + try * 1031 + ${#name} * 4099) % 40000))
        timeout "$TIMEOUT" "$EMU" --serial none -gdb "tcp::$port" -S "$@" \
            >"$LOG/$name-emu.out" 2>"$LOG/$name-emu.err" &
        emu=$!
        for _ in $(seq 50); do
            grep -q 'waiting for gdb' "$LOG/$name-emu.err" 2>/dev/null && started=1 && break
            kill -0 "$emu" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$started" ] && break
        wait "$emu" 2>/dev/null
    done
}

# gdb_session NAME TITLE SCRIPT KERNEL EMU-ARGS...: gdb_server NAME, then gdb -x
# SCRIPT in batch mode; its output must hold $LOG/NAME.expect in order, and
# vmxemu must end with the guest's status 1. TITLE names the check.
gdb_session() {
    name=$1 title=$2 script=$3 kernel=$4
    shift 4
    gdb_server "$name" "$@" "$kernel"
    if [ -z "$started" ]; then
        bad "gdb $title" "the gdb server did not start" "$LOG/$name-emu.err"
        return
    fi
    timeout --foreground "$TIMEOUT" gdb -nx -batch -ex "set remotetimeout 120" -ex "target remote 127.0.0.1:$port" \
        -x "$script" "$kernel" >"$LOG/$name.out" 2>&1
    wait "$emu"
    st=$?
    if ! missing=$(in_order "$LOG/$name.out" "$LOG/$name.expect"); then
        bad "gdb $title" "gdb output lacks '$missing'" "$LOG/$name.out $LOG/$name-emu.err"
    elif [ "$st" -ne 1 ]; then
        bad "gdb $title" "emulator exit status $st, expected the guest's 1" "$LOG/$name-emu.err"
    else
        ok "gdb $title"
    fi
}

if ! command -v gdb >/dev/null 2>&1; then
    bad "gdb session" "gdb is not installed"
else
    sed "s/@TM@/$(printf '%#x' "0x$tm")/g" "$MON/gdb.expect" >"$LOG/gdb.expect"
    gdb_session gdb "session (breakpoint at a symbol, registers, memory, monitor commands, stepi, threads, watchpoint)" \
        "$MON/gdb.gdb" "$G/hello.elf" -smp 2 --cpu skylake-server-novmx

    # over vmx_entry_exit.elf on skylake-server-vmx: a breakpoint in the hypervisor
    # kernel, registers, memory, `monitor vmcs`, read (Z3) and access (Z4)
    # watchpoints, `monitor exits` and `monitor explain`
    VG=$G/vmx_entry_exit.elf
    ve=$(nm "$VG" | awk '$3 == "vm_enter" { print $1 }')
    gm=$(nm "$VG" | awk '$3 == "guest_main" { print $1 }')
    sed "s/@VE@/$(printf '%#x' "0x$ve")/g; s/@GM@/$(printf '%#x' "0x$gm")/g; s/@GM18@/$(printf '%#018x' "0x$gm")/g" \
        "$MON/gdb_vmx.expect" >"$LOG/gdb-vmx.expect"
    gdb_session gdb-vmx "VMX session (breakpoint in a hypervisor kernel, registers, memory, monitor vmcs, read and access watchpoints, monitor exits/explain)" \
        "$MON/gdb_vmx.gdb" "$VG" --cpu skylake-server-vmx
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
    # interrupt once gdb has connected and the guest runs (a SIGINT before that
    # aborts gdb's connect; on a loaded machine connecting can take seconds)
    for _ in $(seq 600); do
        grep -q 'boot.S' "$LOG/gdb-int.out" 2>/dev/null && break
        sleep 0.1
    done
    sleep 1.5
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

# gdb.gdb - the gdb batch session of gdb.sh: a breakpoint at a symbol,
# registers, memory, monitor commands, a single step, vCPUs as threads, a
# watchpoint, and the guest's exit status.
break test_main
continue
info registers rip cs
x/2xb $pc
p/x $cr0
p/x $efer
monitor info cpu
monitor vmcs
monitor cycles
stepi
p $pc
info threads
eval "watch *(long *)%lu", $rsp - 32
continue
delete
continue

# gdb_vmx.gdb - the gdb batch session over vmx_entry_exit.elf on
# skylake-server-vmx (gdb.sh): a breakpoint in the hypervisor kernel,
# registers and memory, the current VMCS through `monitor vmcs`, a read
# watchpoint (Z3) and an access watchpoint (Z4), VM exits explained.
break vm_enter
continue
info registers rip
x/2xb guest_main
monitor vmcs guest_rip
monitor vmcs
delete
rwatch *(long *)&gregs
continue
monitor exits 4
delete
awatch *(long *)&gregs
continue
monitor explain
delete
continue

# vmx_session.cmd - a scripted monitor session over vmx_entry_exit.elf on
# skylake-server-vmx (run.sh substitutes @VMRESUME@ with the address of the
# kernel's VMRESUME instruction). vmx_session.expect lists lines the
# transcript must contain, in order.
# the first VM entry stops at the guest's first instruction
until entry
vmcs guest_rip
xg/2b @GM@
until exit CPUID
vmcs vm_exit_reason
explain
# the host handler moves GUEST_RIP past the CPUID: vmcs diff before VMRESUME shows that field only
break @VMRESUME@
continue
vmcs diff
# stepping over VMRESUME lands on the guest's next instruction
step
delete 1
until exit
exits 5
break exit IO_INSTRUCTION
continue
explain
delete 2
break failed-entry
break entry
info break
continue
delete 4
# VMLAUNCH of a launched VMCS (vmx_entry_exit.c exits), then one broken check per class (entry_failures)
continue
explain
continue
explain
continue
explain
continue
explain
continue
explain
continue
explain
explain exit
info break
# mistakes: one clear line each
until bogus
until exit NOPE
break exit 9999
exits 0
exits x
explain foo
vmcs diff extra
delete all
continue

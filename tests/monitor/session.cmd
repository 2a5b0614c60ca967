# session.cmd - a scripted monitor session over hello.elf (run.sh substitutes
# @TM@ with test_main's address from the symbol table). session.expect lists
# lines the transcript must contain, in order.
regs
step 3
disas $rip 2
break msr IA32_EFER
continue
disas $rip 1
delete 1
break @TM@
info break
continue
regs
walk $rip
x/2g @TM@
xp/4b @TM@
sregs
cregs
msr efer
watch $rsp-32 8
continue
delete all
break io 0x3f8-0x3ff
continue
delete all
break cycle 60000
continue
cycles
# mistakes: one clear line each, the session goes on
frobnicate
x/4g 0xdeadbeef000
xp/4b 0xfffff000
xp/4q 0
step abc
break exc 300
break io 0x10-0x5
watch 0x1000 9
delete 42
cpu 7
x/0b 0
msr NOT_AN_MSR
info nothing
vmcs
vmcs GUEST_RIP
vmcs diff
explain
exits 4
until exit CPUID
break exit CPUID
break entry
ept walk 0x1000
trace on /tmp/x.jsonl
info cpu
info devices
continue
regs
quit

/* cmd_vmx.c - the VMX rows of monitor/commands.def (vmcs, explain, exits,
 * until, ept, trace). They show state that vmx/ keeps (the current VMCS, the
 * exit ring buffer, the last failed entry check, EPT, the trace writer), which
 * does not exist yet: each says so plainly instead of inventing it. */
#include "monitor/repl.h"

bool cmd_vmx(mon_t *mon, const mon_args_t *a)
{
    return mon_err(mon, "%s: %s", a->argv[0], MON_NO_VMX);
}

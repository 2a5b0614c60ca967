/* gdbstub.h - the GDB remote serial protocol over TCP (QEMU's -s, -gdb
 * tcp::PORT, -S): registers through a target.xml for i386:x86-64, memory,
 * continue/step, breakpoints and watchpoints (as emulator breakpoints, never
 * patched into guest memory), Ctrl-C, vCPUs as threads, and `monitor CMD`
 * running any command of monitor/commands.def. Listens on 127.0.0.1 only. */
#ifndef VMXEMU_MON_GDBSTUB_H
#define VMXEMU_MON_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>

#include "emu/machine.h"

/* Serve gdb on 127.0.0.1:port until the guest ends, gdb kills it, or gdb
 * detaches and the guest runs to its end. With wait, nothing runs before gdb
 * connects (-S); without, the guest runs and stops when gdb connects.
 * Returns why the machine stopped (MEXIT_DEBUG: killed or quit while
 * stopped). A socket error returns MEXIT_INTERNAL with a line on stderr. */
enum machine_exit gdb_serve(machine_t *m, int port, bool wait);

/* The register layout gdb is given (for tests): the number of registers, and
 * register n's name and size in bytes (NULL past the end). */
int gdb_reg_count(void);
const char *gdb_reg_name(int n, int *bytes);

#endif

#!/bin/sh
# demo.sh BUILD - what `make run` shows (docs/demo.md): the VMX demo kernel
# (demo_vmx.c, a hypervisor with a tiny guest) under BUILD/vmxemu on the VMX
# CPU model. First the kernel's serial output as it runs, then the VM entry/exit
# trace vmxemu wrote meanwhile (--trace to a file, printed after the run, so
# the two never interleave mid-line), then whether a second run gave the same
# trace bytes as tests/guest/golden/demo_vmx.jsonl (demo-golden.sh).
# Fails unless the kernel ends with debug-exit status 1 (it wrote 0: all went well).
BUILD=${1:-build}
EMU=$BUILD/vmxemu
KERNEL=$BUILD/guest/demo_vmx.elf
TRACE=$BUILD/demo/demo_vmx.jsonl
HERE=$(dirname "$0")
mkdir -p "$BUILD/demo"

echo "== $EMU --cpu skylake-server-vmx --trace $TRACE $KERNEL"
echo "== serial output of the hypervisor kernel:"
"$EMU" --cpu skylake-server-vmx --trace "$TRACE" "$KERNEL"
st=$?
if [ "$st" -ne 1 ]; then
    echo "== exit status $st, expected 1 (docs/cli.md lists the statuses)"
    exit 1
fi
echo "== exit status 1: the kernel wrote 0 to the debug-exit port (status = 0 << 1 | 1)"
echo "== the trace, $TRACE: one JSON object per VM entry, VM exit and failed entry (docs/demo.md)"
cat "$TRACE"
"$HERE/demo-golden.sh" "$BUILD" || echo "== (a differing trace does not fail make run; tests/guest/demo-golden.sh --update $BUILD accepts it)"
exit 0

#!/bin/sh
# demo-golden.sh [--update] BUILD - run the VMX demo kernel (demo_vmx.elf) again
# with --trace and compare the trace byte for byte with
# tests/guest/golden/demo_vmx.jsonl: vmxemu is deterministic, so any difference
# is a change in the emulator's VMX behaviour or timing, or in the kernel's code
# (another gcc lays it out differently). --update writes the golden file instead.
# Status: 0 same, 1 different (a diff is printed), 2 the run itself failed.
update=0
[ "$1" = --update ] && update=1 && shift
BUILD=${1:-build}
GOLDEN=$(dirname "$0")/golden/demo_vmx.jsonl
mkdir -p "$BUILD/demo"
TRACE=$(cd "$BUILD/demo" && pwd)/demo_vmx.check.jsonl
EMU=$(cd "$BUILD" && pwd)/vmxemu
# run from the kernel's directory: the Multiboot command line holds the kernel's
# file name, and its length must not depend on the build directory
(cd "$BUILD/guest" && "$EMU" --cpu skylake-server-vmx --trace "$TRACE" demo_vmx.elf >/dev/null)
st=$?
if [ "$st" -ne 1 ]; then
    echo "== demo-golden: the demo kernel ended with status $st, expected 1"
    exit 2
fi
if [ "$update" = 1 ]; then
    cp "$TRACE" "$GOLDEN" && echo "== demo-golden: wrote $GOLDEN"
    exit $?
fi
if cmp -s "$TRACE" "$GOLDEN"; then
    echo "== a second run wrote the same trace, byte for byte as $GOLDEN"
    exit 0
fi
echo "== the trace differs from $GOLDEN:"
diff "$GOLDEN" "$TRACE" | sed 's/^/    /'
exit 1

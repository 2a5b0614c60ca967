#!/bin/sh
# bochs.sh BUILD IMAGE CMDLINE OUT - boot the flat kernel image IMAGE (the
# a.out-kludge variant of a bench kernel) with CMDLINE in Bochs, through the
# option ROM of bochs_rom.S, and write its serial output to OUT. Prints the
# wall-clock seconds of the run; exit status 1 if Bochs did not power off
# through the guest's shutdown-port write (lib.c guest_exit) within TIMEOUT
# seconds (default 600). Bochs runs without a display and its debugger is
# told to continue. Used by bench.sh; needs the Debian packages bochs,
# bochsbios and vgabios.
BUILD=$1 IMAGE=$2 CMDLINE=$3 OUT=$4
G=$BUILD/guest
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%s\0' "$CMDLINE" >"$dir/cmdline"
printf 'c\nquit\n' >"$dir/debugger.rc"
# megs and the ROM and command-line addresses are those of bochs_rom.S.
cat >"$dir/bochsrc" <<EOT
megs: 128
cpu: model=corei7_skylake_x, count=1
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
optromimage1: file=$G/bench/bochs_rom.bin, address=0xd0000
optramimage1: file=$IMAGE, address=0x100000
optramimage2: file=$dir/cmdline, address=0x4000000
display_library: rfb, options="timeout=0"
com1: enabled=1, mode=file, dev=$OUT
log: $dir/bochs.log
panic: action=fatal
clock: sync=none
EOT
t0=$(date +%s.%N)
timeout "${TIMEOUT:-600}" bochs -f "$dir/bochsrc" -rc "$dir/debugger.rc" >"$dir/stdout" 2>&1
t1=$(date +%s.%N)
echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
grep -q "Shutdown port: shutdown requested" "$dir/bochs.log" "$dir/stdout"

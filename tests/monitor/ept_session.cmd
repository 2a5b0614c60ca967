# ept_session.cmd - the `ept` command over vmx_ept.elf on skylake-server-vmx:
# before VMPTRLD there is no EPTP to walk; at the first VM entry the guest's
# EPT maps 0-2M with 4K pages, 2M-1G with 2M pages, 512M..+2M and 3G..4G onto
# host 0 (vmx_ept.c test_page_sizes). ept_session.expect lists lines the
# transcript must contain, in order.
ept 0x1000
until entry
ept 0x5123
ept 0x20000123
ept 0xc0000123
ept 0x1000000000
ept
ept nonsense
delete all
continue

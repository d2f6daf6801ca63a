/* ksyms-empty.S: the empty symbol table of the kernel's first link pass (see tools/gen-ksyms.sh). */
    .section .ksyms, "a"
    .balign 4
    .globl kernel_symbol_count
kernel_symbol_count:
    .long 0
    .globl kernel_symbol_table
kernel_symbol_table:
    .globl kernel_symbol_names
kernel_symbol_names:
    .byte 0

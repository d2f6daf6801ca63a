; Trampoline.asm: where an application processor (AP) starts, from real mode to the higher-half kernel.
;
; A STARTUP IPI with vector VV starts the AP in real mode at CS:IP = VV00:0000, that is at physical
; VV * 4 KiB (Intel SDM Vol. 3A 8.4.4.1, "Typical BSP Initialization Sequence"; 10.6.1). The kernel copies
; these bytes (ap_trampoline_start up to ap_trampoline_end) to a page below 1 MiB it reserved at boot, fills
; in the parameter block at the end, and sends INIT-SIPI-SIPI (kernel/smp/ApStartup.cpp).
;
; The code does not know its page at assembly time, so it runs on offsets: in real mode DS = CS and every
; operand is "label - ap_trampoline_start"; the two places that need a linear address (the GDT pointer and
; the far jump into 32-bit code) are patched from CS * 16 before use. In protected mode EBX holds the page's
; base. The AP then
;   1. loads the temporary GDT below (flat code 0x08 and data 0x10, the kernel's own selectors) and sets
;      CR0.PE (SDM 9.9.1, "Switching to Protected Mode"), far-jumps to 32-bit code;
;   2. turns paging on with the CR3 and CR4 the kernel left in the parameters. That directory maps this page
;      at its own address (identity), besides the kernel half, so the instruction after "mov cr0" is still
;      there (SDM 9.9.1 step 3); CD and NW are cleared as in boot.asm (they are set at reset, SDM 9.1.1);
;   3. switches to its own kernel stack and jumps to the higher-half entry ap_main(cpu index), which loads
;      the kernel's own page directory (dropping the identity page), GDT, TSS and IDT.
; The CPUs come up one at a time, so one copy of the page and its parameters serves them all.

CR0_PE          equ 1 << 0
CR0_WP          equ 1 << 16
CR0_NW          equ 1 << 29
CR0_CD          equ 1 << 30
CR0_PG          equ 1 << 31

section .rodata
align 16
global ap_trampoline_start
global ap_trampoline_end
global ap_trampoline_parameters

bits 16
ap_trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                                          ; EBX = the page's physical address
    lea eax, [ebx + (gdt - ap_trampoline_start)]
    mov [gdt_pointer - ap_trampoline_start + 2], eax
    lea eax, [ebx + (protected_mode - ap_trampoline_start)]
    mov [far_jump - ap_trampoline_start], eax
    o32 lgdt [gdt_pointer - ap_trampoline_start]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    o32 jmp far [far_jump - ap_trampoline_start]        ; loads CS with 0x08: 32-bit code from here

bits 32
protected_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov eax, [ebx + (parameter_cr4 - ap_trampoline_start)]
    test eax, eax
    jz .no_cr4                                          ; a CPU without PSE or PGE may lack CR4 altogether
    mov cr4, eax
.no_cr4:
    mov eax, [ebx + (parameter_cr3 - ap_trampoline_start)]
    mov cr3, eax
    mov eax, cr0
    and eax, ~(CR0_CD | CR0_NW)
    or eax, CR0_PG | CR0_WP
    mov cr0, eax
    ; Paging is on; this page is identity-mapped, the stack and ap_main are in the kernel half.
    mov esp, [ebx + (parameter_stack - ap_trampoline_start)]
    xor ebp, ebp                                        ; ends the frame-pointer chain for backtraces
    push dword [ebx + (parameter_cpu - ap_trampoline_start)]
    push dword 0                                        ; no return address: ap_main never returns
    jmp [ebx + (parameter_entry - ap_trampoline_start)]

align 8
gdt:
    dq 0                                                ; null
    dq 0x00CF9A000000FFFF                               ; 0x08: code, base 0, limit 4 GiB, 32-bit, DPL 0
    dq 0x00CF92000000FFFF                               ; 0x10: data, base 0, limit 4 GiB, writable, DPL 0
gdt_pointer:
    dw 3 * 8 - 1
    dd 0                                                ; patched: the linear address of gdt
far_jump:
    dd 0                                                ; patched: the linear address of protected_mode
    dw 0x08

; Filled in by the kernel for each AP (struct TrampolineParameters in kernel/smp/ApStartup.cpp).
align 4
ap_trampoline_parameters:
parameter_cr3:   dd 0        ; the bring-up page directory: the kernel half and this page, identity
parameter_cr4:   dd 0        ; the BSP's CR4 (PSE for the direct map's 4 MiB pages, PGE), or 0
parameter_stack: dd 0        ; the top of the AP's kernel stack
parameter_entry: dd 0        ; ap_main
parameter_cpu:   dd 0        ; ap_main's argument: the CPU's index
ap_trampoline_end:

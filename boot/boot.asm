; boot.asm: from the multiboot loader to kmain.
;
; GRUB or QEMU's -kernel loads the image at 1 MiB and jumps to _start in 32-bit protected mode with
; paging off, EAX = 0x2BADB002 and EBX = the physical address of the multiboot information
; (Multiboot spec 0.6.96, section 3.2 "Machine state"). _start sits in .text.boot, linked at its physical
; address (linker.ld); the rest of the kernel is linked at 0xC0000000 + 1 MiB, so until paging is on every
; kernel address must be converted to physical by subtracting KERNEL_VMA.
;
; The early page tables map the first 16 MiB twice: identity (so the instruction after "mov cr0" still
; runs) and at 0xC0000000 (where the kernel is linked). They use 4 KiB pages, not 4 MiB ones, so a CPU
; without PSE (-cpu 486) boots too. Once in the higher half the identity half is dropped, so a null
; pointer faults from the first line of C++ on.

KERNEL_VMA      equ 0xC0000000
EARLY_TABLES    equ 4                   ; 4 tables x 4 MiB = 16 MiB mapped early

MB_MAGIC        equ 0x1BADB002
MB_PAGE_ALIGN   equ 1 << 0              ; modules page-aligned
MB_MEMORY_INFO  equ 1 << 1              ; mem_lower/mem_upper and the memory map
MB_FLAGS        equ MB_PAGE_ALIGN | MB_MEMORY_INFO

PTE_PRESENT     equ 1 << 0
PTE_WRITABLE    equ 1 << 1
CR0_WP          equ 1 << 16             ; supervisor writes honour read-only pages (SDM Vol. 3A 2.5)
CR0_NW          equ 1 << 29             ; not write-through (SDM Vol. 3A 2.5, 11.5.3)
CR0_CD          equ 1 << 30             ; cache disable
CR0_PG          equ 1 << 31

BOOT_STACK_SIZE equ 16384

section .multiboot
align 4
multiboot_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)           ; the three fields sum to zero

section .bss
align 4096
global boot_page_directory
boot_page_directory:
    resb 4096
global boot_page_tables
boot_page_tables:
    resb 4096 * EARLY_TABLES
global boot_stack_guard
boot_stack_guard:                       ; one page left unmapped later: a stack overflow faults
    resb 4096
global boot_stack_bottom
boot_stack_bottom:
    resb BOOT_STACK_SIZE
global boot_stack_top
boot_stack_top:

section .text.boot progbits alloc exec nowrite align=16
global _start
_start:
    cli
    cld
    ; EAX and EBX carry the multiboot magic and info pointer: leave them alone until kmain's call.

    ; Page tables: entry i maps physical page i (0..16 MiB), present and writable.
    mov edi, boot_page_tables - KERNEL_VMA
    mov edx, PTE_PRESENT | PTE_WRITABLE
    mov ecx, 1024 * EARLY_TABLES
.fill_table:
    mov [edi], edx
    add edx, 4096
    add edi, 4
    dec ecx
    jnz .fill_table

    ; Directory: entries 0..3 (identity) and 768..771 (0xC0000000 up) point at the same tables.
    mov edi, boot_page_directory - KERNEL_VMA
    mov edx, (boot_page_tables - KERNEL_VMA) + (PTE_PRESENT | PTE_WRITABLE)
    xor ecx, ecx
.fill_directory:
    mov [edi + ecx * 4], edx
    mov [edi + (768 + ecx) * 4], edx
    add edx, 4096
    inc ecx
    cmp ecx, EARLY_TABLES
    jne .fill_directory

    mov ecx, boot_page_directory - KERNEL_VMA
    mov cr3, ecx
    ; CD and NW are set at reset (SDM Vol. 3A 9.1.1, CR0 = 60000010H) and firmware normally clears them, but
    ; Bochs' BIOS does not and GRUB leaves them alone: clear both, which turns normal caching on (SDM Vol.
    ; 3A 11.5.3); where they are clear already (QEMU's firmware, real PCs) this changes nothing.
    mov ecx, cr0
    and ecx, ~(CR0_CD | CR0_NW)
    or ecx, CR0_PG | CR0_WP
    mov cr0, ecx

    ; Paging is on, still running at the identity address: jump to the linked (higher-half) address.
    mov ecx, start_higher_half
    jmp ecx

section .text
start_higher_half:
    ; Drop the identity mapping and flush it from the TLB by reloading CR3.
    xor ecx, ecx
.clear_identity:
    mov dword [boot_page_directory + ecx * 4], 0
    inc ecx
    cmp ecx, EARLY_TABLES
    jne .clear_identity
    mov ecx, cr3
    mov cr3, ecx

enter_kmain:
    mov esp, boot_stack_top
    xor ebp, ebp                        ; ends the frame-pointer chain for backtraces
    push ebx                            ; multiboot info (physical)
    push eax                            ; multiboot magic
    extern kmain
    call kmain                   ; never returns

.hang:
    cli
    hlt
    jmp .hang

; Isr.asm: interrupt entry stubs and the common path into C++.
;
; The CPU pushes an error code for vectors 8, 10-14, 17 and 21 (SDM Vol. 3A 6.13, Table 6-1); every other
; stub pushes a dummy 0 so all frames share the TrapFrame layout (arch/i386/TrapFrame.h). The common path
; saves the general and segment registers, loads the kernel data segments, calls trap_dispatch(frame) and
; returns with IRET. interrupt_stub_table lists the entry points for the IDT: vectors 0-47 (exceptions and the
; PIC's IRQs), 48-50 (the local APIC's timer and the two inter-processor interrupts, arch/i386/Idt.h), 0x80
; and the APIC's spurious vector 0xFF.
;
; GS is the per-CPU segment in the kernel (kernel/smp/PerCpu.h; arch/i386/Gdt.h). A trap from ring 3 arrives
; with the user's GS, whatever the process put there (the flat user data selector, or an LDT selector under
; the older memory models): the entry saves it in the frame and loads this CPU's own, which it finds through
; the task register. TR is per CPU (each has its own TSS, loaded once with LTR), STR reads it without a
; memory access, and gdt_cpu_data_by_task maps the TSS's GDT index to the same CPU's data selector. The
; return to ring 3 pops the user's GS back; the user cannot load the kernel's selector itself, as its DPL is
; 0 and a data segment load checks DPL >= max(CPL, RPL) (SDM Vol. 3A 5.6, "Privilege Level Checking When
; Accessing Data Segments"). A return to ring 0 keeps the GS it has: the kernel's GS belongs to the CPU, not
; to the interrupted code, which may (once threads move between CPUs) resume on another one.

KERNEL_DATA equ 0x10
FRAME_CS    equ 15 * 4                  ; TrapFrame::cs: after 4 segment registers, 8 of PUSHAD, vector, error code, EIP

section .text
extern trap_dispatch
extern gdt_cpu_data_by_task

%macro STUB_NO_ERROR 1
isr_stub_%1:
    push dword 0
    push dword %1
    jmp trap_common
%endmacro

%macro STUB_WITH_ERROR 1
isr_stub_%1:
    push dword %1
    jmp trap_common
%endmacro

%assign v 0
%rep 51
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21
    STUB_WITH_ERROR v
  %else
    STUB_NO_ERROR v
  %endif
  %assign v v + 1
%endrep
STUB_NO_ERROR 128
STUB_NO_ERROR 255

global trap_common
trap_common:
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, KERNEL_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    str ax                              ; this CPU's TSS selector; its index picks the per-CPU GS
    movzx eax, ax
    shr eax, 3
    mov ax, [gdt_cpu_data_by_task + eax * 2]
    mov gs, ax
    cld                                 ; the C++ ABI expects DF clear (SysV i386 psABI 2.2.1)
    push esp                            ; TrapFrame*
    call trap_dispatch
    add esp, 4                          ; tools/gdb/mneme.py's unwinder knows trap_common by this instruction,
global trap_return                      ; the 3 bytes before trap_return: keep them together
trap_return:
    test byte [esp + FRAME_CS], 3       ; back to ring 3: the user's GS; to ring 0: keep this CPU's
    jz .kernel_gs
    pop gs
    jmp .pop_fs
.kernel_gs:
    add esp, 4
.pop_fs:
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                          ; vector and error code
    iretd

; The double-fault task (a task gate in IDT slot 8) starts here on its own stack with a fresh register
; state; the state at the fault is in the main TSS, where the task switch saved it, and the CPU pushed an
; error code (always 0) on this task's stack (SDM Vol. 3A 6.15). double_fault_handler stops the machine,
; unless the fault was a monitor demonstration with a recovery point (kernel/debug/Traps.cpp): then it
; returns, and IRET (EFLAGS.NT is set in this task) switches back to the interrupted task, whose saved state
; now resumes at that point (SDM Vol. 3A 7.3). The switch saves this task's EIP, just past the IRET, in its
; TSS: the next double fault starts there, hence the jump back to the top.
extern double_fault_handler
global double_fault_task_entry
double_fault_task_entry:
    cld
    call double_fault_handler
    add esp, 4                          ; the error code
    iretd
    jmp double_fault_task_entry

section .rodata
global interrupt_stub_table
interrupt_stub_table:
%assign v 0
%rep 51
    dd isr_stub_ %+ v
  %assign v v + 1
%endrep
global syscall_stub
syscall_stub:
    dd isr_stub_128
global spurious_stub
spurious_stub:
    dd isr_stub_255

; Isr.asm: interrupt entry stubs and the common path into C++.
;
; The CPU pushes an error code for vectors 8, 10-14, 17 and 21 (SDM Vol. 3A 6.13, Table 6-1); every other
; stub pushes a dummy 0 so all frames share the TrapFrame layout (arch/i386/TrapFrame.h). The common path
; saves the general and segment registers, loads the kernel data segments, calls trap_dispatch(frame) and
; returns with IRET. interrupt_stub_table lists the entry points for the IDT (vectors 0-47 and 0x80).

KERNEL_DATA equ 0x10

section .text
extern trap_dispatch

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
%rep 48
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21
    STUB_WITH_ERROR v
  %else
    STUB_NO_ERROR v
  %endif
  %assign v v + 1
%endrep
STUB_NO_ERROR 128

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
    mov gs, ax
    cld                                 ; the C++ ABI expects DF clear (SysV i386 psABI 2.2.1)
    push esp                            ; TrapFrame*
    call trap_dispatch
    add esp, 4                          ; tools/gdb/mneme.py's unwinder knows trap_common by this instruction,
global trap_return                      ; the 3 bytes before trap_return: keep them together
trap_return:
    pop gs
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
%rep 48
    dd isr_stub_ %+ v
  %assign v v + 1
%endrep
global syscall_stub
syscall_stub:
    dd isr_stub_128

; Context.asm: switching from one kernel stack to another.
;
; switch_context(u32* save_esp, u32 next_esp) pushes the callee-saved registers (System V i386 psABI 2.2.1:
; EBX, ESI, EDI, EBP; EAX, ECX, EDX are the caller's business), stores ESP in *save_esp, loads next_esp, pops
; the next context's callee-saved registers and returns on *its* stack, into whatever called switch_context
; there. A context that never ran is built by hand to look the same (kernel/proc/Process.cpp): four zero
; registers and a return address (first_return_to_user, which lets go of the big kernel lock the switch was
; made under and IRETs into user mode through trap_return).

section .text
global switch_context
switch_context:
    mov eax, [esp + 4]          ; save_esp
    mov edx, [esp + 8]          ; next_esp
    push ebp
    push ebx
    push esi
    push edi
    mov [eax], esp
    mov esp, edx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; A new process's first context "returns" here from switch_context: no trap_dispatch of its own is on its
; stack to let go of the big kernel lock (kernel/sync/BigKernelLock.h), so this does it, then pops the
; TrapFrame built for it.
extern big_lock_first_return
extern trap_return
global first_return_to_user
first_return_to_user:
    call big_lock_first_return
    jmp trap_return

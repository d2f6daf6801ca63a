; RecoveryPoint.asm: save a resumable point, and resume at it (RecoveryPoint.h).
;
; The layout of struct RecoveryPoint: ebx 0, esi 4, edi 8, ebp 12, esp 16, eip 20, eflags 24, cr3 28.

section .text
global recovery_point_set
recovery_point_set:
    mov eax, [esp + 4]          ; point
    mov [eax + 0], ebx
    mov [eax + 4], esi
    mov [eax + 8], edi
    mov [eax + 12], ebp
    lea ecx, [esp + 4]          ; the caller's stack pointer once this call has returned
    mov [eax + 16], ecx
    mov ecx, [esp]              ; the return address
    mov [eax + 20], ecx
    pushfd
    pop ecx
    mov [eax + 24], ecx
    mov ecx, cr3
    mov [eax + 28], ecx
    xor eax, eax
    ret

global recovery_point_resume
recovery_point_resume:
    mov eax, [esp + 4]          ; point
    mov ebx, [eax + 0]
    mov esi, [eax + 4]
    mov edi, [eax + 8]
    mov ebp, [eax + 12]
    mov esp, [eax + 16]
    push dword [eax + 20]       ; the return address, for the RET below
    push dword [eax + 24]
    mov eax, 1                  ; set returns 1 this time
    popfd                       ; EFLAGS last: IF may come back on, and the stack is the point's again
    ret

; Guest for the local APIC's INIT/SIPI: the boot processor copies a real-mode trampoline to
; 0x8000, sends INIT and a startup IPI (vector 0x08) to APIC 1, and waits for the
; application processor to set a flag at 0x7000. Prints whether the AP ran and exits through
; isa-debug-exit with 0x10 (AP started) or 0x11 (no AP answered).
; Build: devices-build.sh
%include "devices-lib.inc"

start:
    mov esp, STACK_TOP
    mov dword [APIC + 0xF0], 0x1FF      ; APIC on
    START_AP trampoline, trampoline_end
    mov ecx, 1000000
.wait:
    cmp byte [AP_FLAG], 0
    jne .started
    pause
    loop .wait
    mov esi, none_msg
    mov bl, 0x11
    jmp finish
.started:
    mov esi, ok_msg
    mov bl, 0x10
finish:
    call puts
    mov al, bl
    jmp exit

bits 16
trampoline:                             ; runs on the AP at 0800:0000 in real mode
    xor ax, ax
    mov ds, ax
    mov byte [AP_FLAG], 1
    cli
    hlt
trampoline_end:
bits 32

ok_msg:   db "smp: application processor started", 10, 0
none_msg: db "smp: no application processor", 10, 0

; Guest for the i8042 reset line: prints a line, waits until the controller's input buffer
; is empty, and writes 0xFE to port 0x64. The machine must treat that as a reset request.
; Build: devices-build.sh
%include "devices-lib.inc"

start:
    mov esp, STACK_TOP
    mov esi, msg
    call puts
.reset:
    in al, 0x64
    test al, 2
    jnz .reset
    mov al, 0xFE
    out 0x64, al
.hang:                                  ; not reached: the reset ends the run
    cli
    hlt
    jmp .hang

msg: db "reset: pulsing the i8042 reset line", 10, 0

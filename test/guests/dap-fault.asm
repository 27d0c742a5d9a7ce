; Guest for exception and halt exits: a boot sector that executes UD2 (an Exception exit
; when exceptionExits lists #UD; the test then skips it by moving IP), then halts with
; interrupts off.
; Build: nasm -f bin dap-fault.asm -o dap-fault.bin
bits 16
org 0x7c00
    cli
    mov ax, 0x1234
fault:
    ud2
after:
    mov bx, 0x5678
    hlt
times 510 - ($ - $$) db 0
dw 0xaa55

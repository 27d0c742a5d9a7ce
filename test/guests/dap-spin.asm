; Guest for the pause test: a boot sector that spins with interrupts off.
; Build: nasm -f bin dap-spin.asm -o dap-spin.bin
bits 16
org 0x7c00
    cli
    xor ax, ax
spin:
    inc ax
    jmp spin
times 510 - ($ - $$) db 0
dw 0xaa55

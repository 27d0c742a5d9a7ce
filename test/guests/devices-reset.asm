; Guest for the i8042 reset line: prints a line, waits until the controller's input buffer
; is empty, and writes 0xFE to port 0x64. The machine must treat that as a reset request.
; Build: nasm -f bin devices-reset.asm -o ../fixtures/guests/devices-reset.bin
bits 32
org 0x100000
MB_FLAGS equ 0x00010000
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, 0, 0, start

start:
    mov esi, msg
.puts:
    lodsb
    test al, al
    jz .reset
    mov dx, 0x3F8
    out dx, al
    jmp .puts
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

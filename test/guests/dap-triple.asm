; Guest for the end-of-guest-by-triple-fault path: prints "bye" on COM1, loads an empty IVT
; (limit 0) and executes UD2: #UD cannot be delivered, nor the #DF after it -> triple fault.
; Build: nasm -f bin dap-triple.asm -o ../fixtures/guests/dap-triple.bin
bits 16
org 0x7c00
    cli
    mov dx, 0x3f8
    mov si, msg
print:
    lodsb
    test al, al
    jz crash
    out dx, al
    jmp print
crash:
    lidt [idt0]
    ud2
msg: db 'bye', 10, 0
idt0:
    dw 0
    dd 0
times 510 - ($ - $$) db 0
dw 0xaa55

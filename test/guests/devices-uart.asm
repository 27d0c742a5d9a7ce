; Guest for the 16550 UART model: a polled printer and reader, as firmware-less guests
; drive a serial port. Multiboot v1 kernel with the a.out address fields (flat binary).
; Prints a greeting, then reads a line from COM1 (with a bounded wait), echoes it in upper
; case, and exits through isa-debug-exit with 0x10 (status 33), or 0x11 if no input came.
; Build: nasm -f bin devices-uart.asm -o ../fixtures/guests/devices-uart.bin
bits 32
org 0x100000
MB_FLAGS equ 0x00010000                 ; address fields present
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, 0, 0, start

COM1 equ 0x3F8

start:
    mov esp, stack_top
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; IER = 0: polled
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                          ; DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                          ; divisor 1: 115200 baud
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                          ; 8N1
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al                          ; FIFO on, cleared
    mov esi, greeting
    call puts
.line:
    call getc
    jc .no_input
    cmp al, 10
    je .done
    cmp al, 'a'
    jb .emit
    cmp al, 'z'
    ja .emit
    sub al, 32
.emit:
    call putc
    jmp .line
.done:
    mov al, 10
    call putc
    mov al, 0x10
    jmp exit
.no_input:
    mov esi, nothing
    call puts
    mov al, 0x11
exit:
    mov dx, 0xF4
    out dx, al
    cli
    hlt

putc:                                   ; al -> COM1, waiting for THR empty
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    ret

getc:                                   ; al <- COM1; CF set if nothing arrives
    mov ecx, 100000
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 1
    jnz .ready
    loop .wait
    stc
    ret
.ready:
    mov dx, COM1
    in al, dx
    clc
    ret

puts:                                   ; esi -> NUL-terminated string
    lodsb
    test al, al
    jz .end
    call putc
    jmp puts
.end:
    ret

greeting: db "uart: polled output", 10, 0
nothing:  db "uart: no input", 10, 0
align 16
    times 256 db 0
stack_top:

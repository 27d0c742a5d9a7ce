; Guest for the 16550 UART model: a polled printer and reader, as firmware-less guests
; drive a serial port. Multiboot v1 kernel (devices-lib.inc).
; Prints a greeting, then reads a line from COM1 (with a bounded wait), echoes it in upper
; case, and exits through isa-debug-exit with 0x10 (status 33), or 0x11 if no input came.
; Build: devices-build.sh
%include "devices-lib.inc"

start:
    mov esp, STACK_TOP
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
    jmp exit

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

greeting: db "uart: polled output", 10, 0
nothing:  db "uart: no input", 10, 0

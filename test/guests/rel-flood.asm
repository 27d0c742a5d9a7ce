; Guest for the serial-flood test: writes 256 KiB to COM1 as fast as the UART accepts it
; (polling LSR.THRE before each byte), then exits through isa-debug-exit (port 0xF4).
; 16384 lines of 16 bytes: line k is "kkkk:" (k in 4 hex digits), ten letters
; 'A' + ((k + j) & 15) for j = 0..9, and '\n'. The test rebuilds the same text.
; Build: nasm -f bin rel-flood.asm -o ../fixtures/guests/rel-flood.bin
LINES equ 16384
bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    xor bp, bp                  ; k, the line number
line:
    mov cx, 4                   ; four hex digits of k, most significant first
    mov bx, bp
hex:
    rol bx, 4
    mov al, bl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .digit
    add al, 'a' - '9' - 1
.digit:
    call putc
    loop hex
    mov al, ':'
    call putc
    xor si, si                  ; j
letters:
    mov ax, bp
    add ax, si
    and al, 15
    add al, 'A'
    call putc
    inc si
    cmp si, 10
    jb letters
    mov al, 10
    call putc
    inc bp
    cmp bp, LINES
    jb line
    mov dx, 0xf4
    xor al, al
    out dx, al
    hlt

; putc(al): wait for THRE, then write al to COM1.
putc:
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3f8
    mov al, ah
    out dx, al
    ret

times 510 - ($ - $$) db 0
dw 0xaa55

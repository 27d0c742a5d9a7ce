; perf-serial: a kernel that logs over COM1 the way most do — poll the line status register
; (port 0x3FD) until THRE is set, then write the byte to THR (port 0x3F8) — so every byte
; costs two I/O exits. Measures the cost of one device-handled exit round trip.
; Multiboot v1 (a.out kludge: a flat binary loaded at 1 MiB), 32-bit protected mode with the
; loader's flat segments, paging off. Writes LINES lines of 64 bytes: the line number in 8 hex
; digits, a space, 54 letters 'A' + ((k + j) % 26) for j = 0..53, and '\n'; then writes 0 to
; the isa-debug-exit port 0xF4 (QEMU exits with status 1) and halts.
; Build (perf-serial-build.sh): nasm -f bin -DLINES=16384 (1 MiB, the benchmark) and
; -DLINES=64 (4 KiB, the test).
BITS 32
ORG 0x100000
%ifndef LINES
%define LINES 16384
%endif

header:
    dd 0x1BADB002
    dd 0x00010000                   ; a.out kludge: the address fields below are valid
    dd -(0x1BADB002 + 0x00010000)
    dd header                       ; header_addr
    dd header                       ; load_addr
    dd image_end                    ; load_end_addr
    dd image_end                    ; bss_end_addr
    dd start                        ; entry_addr

start:
    cli
    mov esp, 0x90000
    xor ebp, ebp                    ; k, the line number
line:
    mov ebx, ebp                    ; eight hex digits of k, most significant first
    mov ecx, 8
hex:
    rol ebx, 4
    mov al, bl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .digit
    add al, 'a' - '9' - 1
.digit:
    call putc
    dec ecx
    jnz hex
    mov al, ' '
    call putc
    mov eax, ebp                    ; letter index (k + j) % 26, starting at j = 0
    xor edx, edx
    mov ecx, 26
    div ecx
    mov esi, edx
    mov edi, 54                     ; letters left
letters:
    lea eax, [esi + 'A']
    call putc
    inc esi
    cmp esi, 26
    jb .nowrap
    xor esi, esi
.nowrap:
    dec edi
    jnz letters
    mov al, 10
    call putc
    inc ebp
    cmp ebp, LINES
    jb line
    mov dx, 0xf4
    xor al, al
    out dx, al
    hlt

; putc(al): wait until the transmitter holding register is empty, then write al to COM1.
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

image_end:

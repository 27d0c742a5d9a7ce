; Guest for the local APIC's INIT/SIPI: the boot processor copies a real-mode trampoline to
; 0x8000, sends INIT and a startup IPI (vector 0x08) to APIC 1, and waits for the
; application processor to set a flag at 0x7000. Prints whether the AP ran and exits through
; isa-debug-exit with 0x10 (AP started) or 0x11 (no AP answered).
; Build: nasm -f bin devices-smp.asm -o ../fixtures/guests/devices-smp.bin
bits 32
org 0x100000
MB_FLAGS equ 0x00010000
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, 0, 0, start

APIC equ 0xFEE00000
FLAG equ 0x7000

start:
    mov byte [FLAG], 0
    mov esi, trampoline
    mov edi, 0x8000
    mov ecx, trampoline_end - trampoline
    rep movsb
    mov dword [APIC + 0xF0], 0x1FF      ; APIC on
    mov dword [APIC + 0x310], 1 << 24   ; destination: APIC 1
    mov dword [APIC + 0x300], 0x4500    ; INIT
    mov dword [APIC + 0x310], 1 << 24
    mov dword [APIC + 0x300], 0x4608    ; startup IPI: start at 0x08 * 0x1000
    mov ecx, 1000000
.wait:
    cmp byte [FLAG], 0
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
    lodsb
    test al, al
    jz .exit
    mov dx, 0x3F8
    out dx, al
    jmp finish
.exit:
    mov al, bl
    out 0xF4, al
    cli
    hlt

bits 16
trampoline:                             ; runs on the AP at 0800:0000 in real mode
    xor ax, ax
    mov ds, ax
    mov byte [FLAG], 1
    cli
    hlt
trampoline_end:

ok_msg:   db "smp: application processor started", 10, 0
none_msg: db "smp: no application processor", 10, 0

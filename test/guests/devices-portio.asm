; Guest for in-process port I/O (src/machine/inProcessPorts.ts): each part prints a figure
; that depends on the exact instruction at which the machine reacts to a port access, so a
; run with in-process port I/O must print what a run with an exit per access prints.
;  pit:  programs the 8254 by port writes (its next timer event moves) and counts loop
;        iterations, without HLT, until three timer interrupts have arrived;
;  uart: enables the UART's THRE interrupt by a port write while interrupts are on: the
;        interrupt arrives before the instruction after the OUT; prints how many of the eight
;        INCs after it ran first (0);
;  smp:  with a second processor, both write letters to COM1 without waiting: BSP 'a', AP 'b'
;        (the interleaving shows when each processor got its turn); then the BSP waits in
;        HLT until the AP's OUT enabling the UART's THRE interrupt wakes it (IRQ 4 reaches
;        only the BSP), and prints a line while the AP idles in HLT with interrupts on.
; Ends through isa-debug-exit with 0x10 (status 33); an unexpected vector exits with 0x3F.
; Build: nasm -f bin devices-portio.asm -o ../fixtures/guests/devices-portio.bin
bits 32
org 0x100000
MB_FLAGS equ 0x00010000
header:
    dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
    dd header, header, 0, 0, start

APIC equ 0xFEE00000
FLAG equ 0x7000
LETTERS equ 200

start:
    mov esp, stack_top
    xor ecx, ecx
.fill:
    mov eax, unexpected
    call set_gate
    inc ecx
    cmp ecx, 256
    jb .fill
    mov ecx, 0x20
    mov eax, pit_irq
    call set_gate
    mov ecx, 0x24
    mov eax, uart_irq
    call set_gate
    mov ecx, 0x27                       ; spurious IRQ 7
    mov eax, spurious
    call set_gate
    lidt [idt_ptr]

    ; 8259 pair: vectors 0x20 / 0x28, cascade on IRQ 2, IRQ 0 and 4 unmasked
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xEE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

    ; pit: 8254 channel 0, mode 2, divisor 50 (about 42 us of virtual time per tick)
    mov al, 0x34
    out 0x43, al
    mov al, 50
    out 0x40, al
    xor al, al
    out 0x40, al
    xor ebx, ebx
    sti
.spin:
    inc ebx
    cmp dword [pit_ticks], 3
    jb .spin
    cli
    mov al, 0x30                        ; channel 0 mode 0 with no count loaded: no more ticks
    out 0x43, al
    mov esi, pit_msg
    call puts
    mov eax, ebx
    call put_hex
    mov al, 0xEF                        ; only IRQ 4 unmasked
    out 0x21, al

    ; uart: OUT2 on, then THRE interrupt enable with IF set
    mov dx, 0x3FC
    mov al, 0x08
    out dx, al
    xor ebx, ebx
    mov dword [uart_at], -1
    mov dx, 0x3F9
    mov al, 0x02
    sti
    nop                                 ; past the STI shadow: the OUT runs inside a block
    out dx, al
    inc ebx
    inc ebx
    inc ebx
    inc ebx
    inc ebx
    inc ebx
    inc ebx
    inc ebx
    cli
    mov esi, uart_msg
    call puts
    mov eax, [uart_at]
    call put_hex

    ; smp: start the AP (if there is one) on a real-mode trampoline that writes 'b's
    mov byte [FLAG], 0
    mov esi, trampoline
    mov edi, 0x8000
    mov ecx, trampoline_end - trampoline
    rep movsb
    mov dword [APIC + 0xF0], 0x1FF
    mov dword [APIC + 0x350], 0x700     ; LINT0: ExtINT, so the 8259s still reach this processor
    mov dword [APIC + 0x310], 1 << 24
    mov dword [APIC + 0x300], 0x4500    ; INIT
    mov dword [APIC + 0x310], 1 << 24
    mov dword [APIC + 0x300], 0x4608    ; startup IPI: 0800:0000
    mov ecx, 100000                     ; wait (bounded) for the AP to start
.wait:
    cmp byte [FLAG], 0
    jne .started
    loop .wait
    jmp .done
.started:
    mov ecx, LETTERS
    mov dx, 0x3F8
    mov al, 'a'
.letters:
    out dx, al
    loop .letters
    mov dword [uart_at], -1
    xor ebx, ebx                        ; HLTs so far: uart_irq records it
.sleep:
    cli
    cmp dword [uart_at], -1
    jne .woken
    sti                                 ; its shadow covers the HLT: a pending interrupt wakes it
    hlt
    inc ebx
    jmp .sleep
.woken:
    mov al, 10
    call putc
    mov esi, wake_msg
    call puts
    mov eax, [uart_at]
    call put_hex
.done:
    mov al, 10
    call putc
    mov al, 0x10
    jmp exit

set_gate:                               ; ecx = vector, eax = handler
    mov [idt + ecx*8], ax
    mov word [idt + ecx*8 + 2], 0x08
    mov word [idt + ecx*8 + 4], 0x8E00
    shr eax, 16
    mov [idt + ecx*8 + 6], ax
    ret

pit_irq:
    inc dword [pit_ticks]
    push eax
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

uart_irq:
    mov [uart_at], ebx
    push eax
    push edx
    mov dx, 0x3FA                       ; IIR: acknowledges THRE
    in al, dx
    mov dx, 0x3F9
    xor al, al
    out dx, al                          ; interrupts off again
    mov al, 0x20
    out 0x20, al
    pop edx
    pop eax
    iret

spurious:
    iret

unexpected:
    mov esi, unexpected_msg
    call puts
    mov al, 0x3F
exit:
    out 0xF4, al
    cli
    hlt

puts:                                   ; esi = NUL-terminated string
    lodsb
    test al, al
    jz .end
    call putc
    jmp puts
.end:
    ret

put_hex:                                ; eax: eight hex digits and a newline
    mov ecx, 8
    mov edx, eax
.digit:
    rol edx, 4
    mov al, dl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    call putc
    loop .digit
    mov al, 10
    jmp putc

putc:                                   ; al to COM1 once THRE is set
    push edx
    push eax
    mov dx, 0x3FD
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, 0x3F8
    out dx, al
    pop edx
    ret

bits 16
trampoline:                             ; the AP, at 0800:0000 in real mode
    xor ax, ax
    mov ds, ax
    mov byte [FLAG], 1
    mov cx, LETTERS
    mov dx, 0x3F8
    mov al, 'b'
.b:
    out dx, al
    loop .b
    mov cx, 20000                       ; longer than a turn: the BSP reaches its HLT first
.delay:
    loop .delay
    mov byte [FLAG], 2
    mov dx, 0x3F9                       ; THRE interrupt on: IRQ 4 wakes the BSP
    mov al, 0x02
    out dx, al
    sti
.idle:
    hlt
    jmp .idle
trampoline_end:

pit_msg:        db "pit ", 0
uart_msg:       db "uart ", 0
wake_msg:       db "woken by the AP's OUT in HLT: ", 0
unexpected_msg: db "unexpected", 10, 0

align 8
idt_ptr:
    dw 256 * 8 - 1
    dd idt
align 4
pit_ticks: dd 0
uart_at:   dd 0
align 8
idt: times 256 * 8 db 0
    times 4096 db 0
stack_top:

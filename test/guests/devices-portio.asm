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
; Build: devices-build.sh
%include "devices-lib.inc"

LETTERS equ 200

start:
    mov esp, STACK_TOP
    IDT_INIT "unexpected"
    SET_GATE 0x20, pit_irq
    SET_GATE 0x24, uart_irq
    SET_GATE 0x27, spurious             ; spurious IRQ 7
    PIC_INIT 0xEE                       ; IRQ 0 and 4 unmasked

    ; pit: divisor 50 (about 42 us of virtual time per tick)
    PIT_PERIODIC 50
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
    mov dword [APIC + 0xF0], 0x1FF
    mov dword [APIC + 0x350], 0x700     ; LINT0: ExtINT, so the 8259s still reach this processor
    START_AP trampoline, trampoline_end
    mov ecx, 100000                     ; wait (bounded) for the AP to start
.wait:
    cmp byte [AP_FLAG], 0
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

bits 16
trampoline:                             ; the AP, at 0800:0000 in real mode
    xor ax, ax
    mov ds, ax
    mov byte [AP_FLAG], 1
    mov cx, LETTERS
    mov dx, 0x3F8
    mov al, 'b'
.b:
    out dx, al
    loop .b
    mov cx, 20000                       ; longer than a turn: the BSP reaches its HLT first
.delay:
    loop .delay
    mov byte [AP_FLAG], 2
    mov dx, 0x3F9                       ; THRE interrupt on: IRQ 4 wakes the BSP
    mov al, 0x02
    out dx, al
    sti
.idle:
    hlt
    jmp .idle
trampoline_end:
bits 32

pit_msg:        db "pit ", 0
uart_msg:       db "uart ", 0
wake_msg:       db "woken by the AP's OUT in HLT: ", 0
align 4
uart_at:   dd 0

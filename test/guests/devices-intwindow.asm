; Guest for interrupt-window exits: the PIT (IRQ 0, vector 0x20, period ~10 µs) runs while
; the guest spins with IF=0, so its interrupt is pending; then `sti; nop; cli` at window_sti
; opens a one-instruction window (STI's interrupt shadow covers the NOP), and the tick is taken
; before the CLI. Three such rounds each count exactly one tick. A fourth masks IRQ 0 on the
; 8259 while the tick is pending, before its STI, so no interrupt is deliverable in its window.
; A fifth spins with IRQ 0 still masked (the 8259 latches the tick), unmasks it — the OUT makes
; the interrupt pending in the middle of an IF=0 stretch — and counts one tick in its window.
; Prints "intwindow: 4 ticks" and exits through isa-debug-exit with 0x10 (status 33); a round
; that does not count what it should prints "intwindow: bad tick count" and exits with 0x3F.
; With the X64InterruptWindow exit reported the machine requests a window in rounds 1-3 and
; 5, and the VP exits at window_open (after STI and its shadow) four times.
; Build: devices-build.sh
%include "devices-lib.inc"

ROUNDS equ 3

start:
    mov esp, STACK_TOP
    IDT_INIT "intwindow: unexpected interrupt"
    SET_GATE 0x20, pit_irq
    SET_GATE 0x27, spurious             ; spurious IRQ 7: ignore
    PIC_INIT 0xFE                       ; only IRQ 0 unmasked
    PIT_PERIODIC 12                     ; ~99 kHz: a period is ~10,000 instructions

    mov ebx, ROUNDS
.round:
    call spin                           ; IF=0 for ~40,000 instructions: IRQ 0 is pending
    mov edx, [pit_ticks]
    call window
    inc edx
    cmp edx, [pit_ticks]
    jne bad
    dec ebx
    jnz .round

    call spin
    mov al, 0xFF
    out 0x21, al                        ; mask IRQ 0: nothing is deliverable in this window
    mov edx, [pit_ticks]
    call window
    cmp edx, [pit_ticks]
    jne bad

    call spin
    mov al, 0xFE
    out 0x21, al                        ; unmask IRQ 0: the latched tick is pending now
    mov edx, [pit_ticks]
    call window
    inc edx
    cmp edx, [pit_ticks]
    jne bad

    mov esi, done_msg
    call puts
    mov al, 0x10
    jmp exit

spin:
    mov ecx, 20000
.loop:
    dec ecx
    jnz .loop
    ret

window:
window_sti:
    sti
    nop                                 ; in STI's interrupt shadow
window_open:                            ; the pending tick is taken here
    cli
    ret

bad:
    mov esi, bad_msg
    call puts
    mov al, 0x3F
    jmp exit

done_msg:   db "intwindow: 4 ticks", 10, 0
bad_msg:    db "intwindow: bad tick count", 10, 0

; Guest for the interrupt controllers and timers: takes 5 PIT interrupts through the 8259
; pair (IRQ 0 at vector 0x20), then 5 local APIC timer interrupts (periodic, vector 0x40,
; xAPIC MMIO at 0xFEE00000), waiting in HLT for each; then prints the CMOS RTC time and
; exits through isa-debug-exit with 0x10 (status 33). Any other interrupt or exception
; prints "unexpected" and exits with 0x3F.
; Build: devices-build.sh
%include "devices-lib.inc"

start:
    mov esp, STACK_TOP
    IDT_INIT "timers: unexpected interrupt"
    SET_GATE 0x20, pit_irq
    SET_GATE 0x27, spurious             ; spurious IRQ 7: ignore
    SET_GATE 0x40, apic_irq
    SET_GATE 0xFF, spurious             ; APIC spurious vector
    PIC_INIT 0xFE                       ; only IRQ 0 unmasked
    PIT_PERIODIC 1193                   ; about 1 kHz

    sti
.pit_wait:
    hlt
    cmp dword [pit_ticks], 5
    jb .pit_wait
    cli
    mov al, 0xFF
    out 0x21, al                        ; mask the PIT again
    mov esi, pit_msg
    call puts

    ; local APIC timer: enable, divide by 16, periodic vector 0x40, 10000 counts
    mov dword [APIC + 0xF0], 0x1FF
    mov dword [APIC + 0x3E0], 0x3
    mov dword [APIC + 0x320], 0x20040
    mov dword [APIC + 0x380], 10000
    sti
.apic_wait:
    hlt
    cmp dword [apic_ticks], 5
    jb .apic_wait
    cli
    mov dword [APIC + 0x320], 0x10000   ; mask the timer

    mov esi, apic_msg
    call puts
    ; CMOS RTC: hh:mm:ss (BCD)
    mov esi, rtc_msg
    call puts
    mov al, 4
    call cmos_digits
    mov al, ':'
    call putc
    mov al, 2
    call cmos_digits
    mov al, ':'
    call putc
    mov al, 0
    call cmos_digits
    mov al, 10
    call putc
    mov al, 0x10
    jmp exit

apic_irq:
    inc dword [apic_ticks]
    mov dword [APIC + 0xB0], 0          ; EOI
    iret

cmos_digits:                            ; al = register: prints its two BCD digits
    out 0x70, al
    in al, 0x71
    push eax
    shr al, 4
    add al, '0'
    call putc
    pop eax
    and al, 0x0F
    add al, '0'
    jmp putc

pit_msg:        db "timers: 5 PIT interrupts", 10, 0
apic_msg:       db "timers: 5 APIC timer interrupts", 10, 0
rtc_msg:        db "timers: RTC ", 0
align 4
apic_ticks: dd 0

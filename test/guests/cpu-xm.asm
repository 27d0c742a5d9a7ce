; cpu-xm: #XM for an unmasked SIMD floating-point exception (CR4.OSXMMEXCPT set by
; cpu-lib.inc). QEMU TCG sets the MXCSR flag but raises nothing, so, as for cpu-sdm,
; cpu-xm.expected is written from the SDM rather than recorded from QEMU.
%include "cpu-lib.inc"
%include "cpu-lm.inc"

        bits 64
tests:
        PRINT64 "SIMD floating-point exception", 10
        mov dword [mxcsr], 0x1f80 & ~0x200      ; unmask divide-by-zero
        ldmxcsr [mxcsr]
        xorps xmm3, xmm3
        movss xmm4, [one]
        EXPECT "unmasked divss by 0", divss xmm4, xmm3
        stmxcsr [mxcsr]
        mov eax, [mxcsr]
        PRINT64 "mxcsr after #XM: "
        HEX64 rax, 4
        PRINT64 10
        movd eax, xmm4
        PRINT64 "destination unchanged: "
        HEX64 rax, 8
        PRINT64 10
        PRINT64 "done", 10
        EXIT64 0

one:    dd 1.0
mxcsr:  dd 0
        align 4096
user_start:
user_end:

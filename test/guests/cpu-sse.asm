; cpu-sse: SSE state and its exceptions in long mode — #NM with CR0.TS, #UD with
; CR4.OSFXSR clear, MXCSR flags (#XM is in cpu-sdm: QEMU TCG does not raise it),
; a few packed/scalar results, and FXSAVE/FXRSTOR round-tripping XMM and MXCSR.
%include "cpu-lib.inc"
%include "cpu-lm.inc"

        bits 64
tests:
        PRINT64 "sse in long mode", 10
        mov rax, cr0
        or rax, 0xA                     ; MP | TS
        mov cr0, rax
        EXPECT "movaps with CR0.TS", movaps xmm0, xmm1
        clts
        movaps xmm0, [ones]
        addps xmm0, [ones]              ; 2.0 x4
        cvttss2si eax, xmm0
        PRINT64 "addps then cvttss2si: "
        HEX64 rax, 8
        mov rax, 0x4008000000000000     ; 3.0
        movq xmm1, rax
        mulsd xmm1, xmm1                ; 9.0
        cvtsd2si rax, xmm1
        PRINT64 " mulsd 3*3: "
        HEX64 rax, 8
        pcmpeqb xmm2, xmm2
        pmovmskb eax, xmm2
        PRINT64 " pmovmskb all-ones: "
        HEX64 rax, 4
        PRINT64 10
        ; MXCSR: divide by zero, masked -> ZE sticky flag
        xorps xmm3, xmm3
        movss xmm4, [ones]
        divss xmm4, xmm3
        stmxcsr [mxcsr]
        mov eax, [mxcsr]
        PRINT64 "masked divss by 0: mxcsr="
        HEX64 rax, 4
        PRINT64 10
        mov dword [mxcsr], 0x1f80
        ldmxcsr [mxcsr]
        ; FXSAVE / FXRSTOR
        mov rax, 0x1122334455667788
        movq xmm5, rax
        fxsave [fxarea]
        pxor xmm5, xmm5
        mov dword [mxcsr], 0x1f80 | 0x6000   ; RC = toward zero
        ldmxcsr [mxcsr]
        fxrstor [fxarea]
        movq rax, xmm5
        stmxcsr [mxcsr]
        mov ebx, [mxcsr]
        PRINT64 "fxrstor: xmm5="
        HEX64 rax, 16
        PRINT64 " mxcsr="
        HEX64 rbx, 4
        PRINT64 10
        ; CR4.OSFXSR clear: SSE raises #UD
        mov rax, cr4
        btr rax, 9
        mov cr4, rax
        EXPECT "movaps with CR4.OSFXSR=0", movaps xmm0, xmm1
        bts rax, 9
        mov cr4, rax
        PRINT64 "done", 10
        EXIT64 0

        align 16
ones:   dd 1.0, 1.0, 1.0, 1.0
mxcsr:  dd 0
        align 16
fxarea: times 512 db 0

        align 4096
user_start:
user_end:

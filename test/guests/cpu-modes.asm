; cpu-modes: multiboot (32-bit protected mode) -> real mode (IVT interrupt, #DE through
; the IVT, segment arithmetic) -> protected mode -> long mode -> compatibility mode
; -> 64-bit -> out of long mode back to 32-bit protected mode. Prints each stage on COM1.
%include "cpu-lib.inc"

        bits 32
start:
        mov ebp, eax                    ; multiboot magic
        mov esp, STACK32
        lgdt [gdt_ptr]
        jmp 0x08:.flat
.flat:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        PRINT32 "boot: eax="
        HEX32 ebp, 8
        mov eax, cr0
        and eax, 0x80000001
        PRINT32 " cr0.pg/pe="
        HEX32 eax, 8
        PRINT32 10
        ; 32-bit arithmetic sanity before trusting anything else
        mov eax, 0x89abcdef
        mov ebx, 0x76543211
        add eax, ebx                    ; 0, CF=1 ZF=1
        pushfd
        pop ebx
        and ebx, 0x8d5
        PRINT32 "pm32: add eax="
        HEX32 eax, 8
        PRINT32 " flags="
        HEX32 ebx, 3
        PRINT32 10

        ; ---- to real mode: copy the 16-bit code low, go through a 16-bit PM segment
        mov esi, section.rm16.start
        mov edi, rm_start
        mov ecx, rm_end - rm_start
        rep movsb
        jmp 0x40:rm_pm16

pm_back:                                ; from real mode, CS=0x08
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK32
        mov ax, cs
        PRINT32 "pm32 again: cs="
        HEX32 eax, 4
        PRINT32 10

        ENTER_LONG_MODE lm64

        bits 64
lm64:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, STACK64
        mov ecx, 0xC0000080
        rdmsr
        mov ebx, eax
        mov ax, cs
        PRINT64 "lm64: cs="
        HEX64 rax, 4
        PRINT64 " efer="
        HEX64 rbx, 8
        ; a 64-bit-only result: upper halves and REX registers
        mov r15, 0x0123456789abcdef
        mov eax, 0xffffffff
        add r15, rax
        PRINT64 " r15="
        HEX64 r15, 16
        PRINT64 10
        ; far return into a 32-bit code segment: compatibility mode
        push 0x08
        push compat32
        retfq

        bits 32
compat32:
        mov ax, cs
        PRINT32 "compat: cs="
        HEX32 eax, 4
        mov eax, 0xffffffff
        inc eax                         ; 32-bit wrap in compatibility mode
        PRINT32 " inc -> "
        HEX32 eax, 8
        PRINT32 10
        jmp 0x18:lm64_again

        bits 64
lm64_again:
        PRINT64 "lm64 again", 10
        ; leave long mode: compatibility mode, then paging off (clears EFER.LMA), then LME off
        push 0x08
        push leave32
        retfq

        bits 32
leave32:
        mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax
        mov ecx, 0xC0000080
        rdmsr
        and eax, ~0x100
        wrmsr
        rdmsr
        mov ebx, eax
        mov eax, cr0
        and eax, 0x80000001
        PRINT32 "pm32 after long mode: cr0.pg/pe="
        HEX32 eax, 8
        PRINT32 " efer.lme/lma="
        and ebx, 0x500
        HEX32 ebx, 4
        PRINT32 10
        PRINT32 "done", 10
        EXIT32 0

; ---------------------------------------------------------------- real mode (runs at 0x7000)
        section rm16 follows=.text vstart=0x7000 align=16
        bits 16
rm_start:
rm_pm16:                                ; 16-bit protected mode, CS base 0
        mov ax, 0x48
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0:rm_real
rm_real:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov sp, 0x6000
        lidt [rm_ivt]
        mov si, rm_msg_enter
        call puts16
        mov word [0x30*4], rm_int30     ; IVT[0x30]
        mov word [0x30*4+2], 0
        mov word [0*4], rm_fault        ; IVT[0] (#DE)
        mov word [0*4+2], 0
        ; software interrupt through the IVT
        mov ax, 0x1234
        stc
        int 0x30
.after_int:
        pushf
        mov si, rm_msg_ax
        call puts16
        call hex16
        pop ax
        and ax, 1                       ; CF preserved by INT/IRET
        mov si, rm_msg_cf
        call puts16
        call hex16
        call nl16
        ; #DE: a fault, IP of the DIV is pushed
        mov word [rm_resume], .de_done
        mov ax, 100
        mov bl, 0
.de:    div bl
.de_done:
        ; segment arithmetic: ES=0x1000:0x10 is linear 0x10010, FS=0x1001:0 too
        mov ax, 0x1000
        mov es, ax
        mov byte [es:0x10], 0x5a
        mov ax, 0x1001
        mov fs, ax
        mov al, [fs:0]
        xor ah, ah
        mov si, rm_msg_seg
        call puts16
        call hex16
        ; 32-bit operand size in real mode
        mov eax, 0x12345678
        add eax, eax
        mov si, rm_msg_32
        call puts16
        ror eax, 16
        call hex16
        ror eax, 16
        call hex16
        call nl16
        ; back to protected mode
        cli
        lgdt [rm_gdt_ptr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:pm_back

rm_int30:
        push ax
        mov si, rm_msg_int
        call puts16
        mov bp, sp
        mov ax, [bp+2]                  ; return IP
        call hex16
        call nl16
        pop ax
        inc ax
        iret

rm_fault:                               ; #DE: print the faulting IP, resume at [rm_resume]
        push ax
        push bp
        mov bp, sp
        mov si, rm_msg_fault
        call puts16
        mov ax, [bp+4]
        call hex16
        call nl16
        mov ax, [rm_resume]
        mov [bp+4], ax
        pop bp
        pop ax
        iret

putc16:
        push dx
        push ax
        mov dx, 0x3fd
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop ax
        mov dx, 0x3f8
        out dx, al
        pop dx
        ret
puts16:
        push ax
.next:  lodsb
        test al, al
        jz .done
        call putc16
        jmp .next
.done:  pop ax
        ret
hex16:                                  ; ax
        push ax
        push bx
        push cx
        mov bx, ax
        mov cx, 4
.digit: rol bx, 4
        mov al, bl
        and al, 15
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '0' - 10
.out:   call putc16
        loop .digit
        pop cx
        pop bx
        pop ax
        ret
nl16:
        push ax
        mov al, 10
        call putc16
        pop ax
        ret

rm_ivt:         dw 0x3ff
                dd 0
rm_gdt_ptr:     dw gdt_end - gdt - 1
                dd gdt
rm_resume:      dw 0
rm_msg_enter:   db "real mode: cs:ip in IVT land", 10, 0
rm_msg_int:     db "rm: int 30h, return ip=", 0
rm_msg_ax:      db "rm: after int ax=", 0
rm_msg_cf:      db " cf=", 0
rm_msg_fault:   db "rm: fault at ip=", 0
rm_msg_seg:     db "rm: es:10h/fs:0 byte=", 0
rm_msg_32:      db " eax*2=", 0
rm_end:

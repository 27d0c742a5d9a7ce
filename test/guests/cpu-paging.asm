; cpu-paging: 4-level paging in long mode — 4 KiB / 2 MiB / 1 GiB pages, #PF error codes
; and CR2 for not-present, read-only (CR0.WP), NX, user/supervisor from ring 3
; (reserved-bit faults are in cpu-sdm: QEMU reports them without the P bit),
; SMEP and SMAP, page-crossing data and instruction fetches, accessed/dirty bits,
; INVLPG and CR3 reloads.
%include "cpu-lib.inc"
%include "cpu-lm.inc"

%define PD1 0x404000
%define PT1 0x405000
%define PAGE_A 0x1E0000
%define PAGE_B 0x1E1000
%define PAGE_C 0x1E2000                 ; holds a RET
%define VA 0x40000000                   ; PT1 maps VA + n*4K
%define NX (1 << 63)

        bits 64
tests:
        PRINT64 "paging in long mode", 10
        mov dword [PAGE_A], 0xAAAA0001
        mov dword [PAGE_B], 0xBBBB0002
        mov byte [PAGE_C], 0xC3
        mov edi, PD1
        mov ecx, 2 * 4096 / 8
        xor eax, eax
        rep stosq
        mov qword [PDPT + 8], PD1 | 7
        mov qword [PD1], PT1 | 7
        mov qword [PT1 + 0*8], PAGE_A | 3                   ; RW
        mov qword [PT1 + 1*8], 0                            ; not present
        mov qword [PT1 + 2*8], PAGE_A | 1                   ; read-only
        mov rax, PAGE_C | 3 | NX
        mov [PT1 + 3*8], rax                                ; no-execute
        mov qword [PT1 + 5*8], PAGE_C | 5                   ; user, read-only, executable
        mov qword [PT1 + 6*8], PAGE_A | 5                   ; user, read-only
        mov qword [PT1 + 7*8], PAGE_B | 3                   ; A/D test page
        mov rax, cr3
        mov cr3, rax

        mov eax, [VA]
        PRINT64 "4k alias read: "
        HEX64 rax, 8
        mov dword [VA], 0x12345678
        mov eax, [PAGE_A]
        PRINT64 " write through alias, physical now: "
        HEX64 rax, 8
        PRINT64 10

        EXPECT "read, not present", mov eax, [VA + 0x1000]
        EXPECT "write, not present", mov [VA + 0x1010], eax
        EXPECT "write to read-only, CR0.WP=1", mov [VA + 0x2000], eax
        mov rax, cr0
        btr rax, 16
        mov cr0, rax
        mov dword [VA + 0x2004], 0x5555
        bts rax, 16
        mov cr0, rax
        mov eax, [PAGE_A + 4]
        PRINT64 "write to read-only, CR0.WP=0: ok, wrote "
        HEX64 rax, 4
        PRINT64 10
        mov rax, VA + 0x3000
        BEGIN "call into a no-execute page", VA + 0x3000
        call rax
        END
        mov al, [VA + 0x3000]
        PRINT64 "data read from the no-execute page: "
        HEX64 rax, 2
        PRINT64 10
        mov rax, 0x0102030405060708
        EXPECT "qword write across into a not-present page", mov [VA + 0xffc], rax
        ; an instruction whose last bytes lie on the not-present page: mov rax, imm64 at VA+0xffe
        mov word [VA + 0xffe], 0xB848
        mov rax, VA + 0xffe
        BEGIN "instruction fetch across into a not-present page", VA + 0xffe
        jmp rax
        END

        ; large pages
        mov qword [PD1 + 8], 0x83                           ; VA+2M -> physical 0, 2 MiB
        mov eax, [VA + 0x200000 + LOAD_ADDR]
        PRINT64 "2M page read: "
        HEX64 rax, 8
        PRINT64 10
        mov eax, 0x80000001
        cpuid
        bt edx, 26
        jnc .no1g
        mov qword [PDPT + 16], 0x83                         ; 2G -> physical 0, 1 GiB
        mov rbx, 0x80000000 + LOAD_ADDR
        mov eax, [rbx]
        PRINT64 "1G page read: "
        HEX64 rax, 8
        PRINT64 10
        jmp .ad
.no1g:  PRINT64 "1G pages: not in CPUID", 10

.ad:    ; accessed / dirty
        mov rax, [PT1 + 7*8]
        and eax, 0x60
        PRINT64 "A/D: fresh pte "
        HEX64 rax, 2
        mov eax, [VA + 0x7000]
        mov rax, [PT1 + 7*8]
        and eax, 0x60
        PRINT64 ", after read "
        HEX64 rax, 2
        mov dword [VA + 0x7000], 1
        mov rax, [PT1 + 7*8]
        and eax, 0x60
        PRINT64 ", after write "
        HEX64 rax, 2
        mov rax, [PD1]
        and eax, 0x20
        PRINT64 ", pde.A "
        HEX64 rax, 2
        PRINT64 10

        ; INVLPG and CR3 reload make PTE changes visible
        mov qword [PT1], PAGE_B | 3
        invlpg [VA]
        mov eax, [VA]
        PRINT64 "after invlpg: "
        HEX64 rax, 8
        mov qword [PT1], PAGE_A | 3
        mov rax, cr3
        mov cr3, rax
        mov eax, [VA]
        PRINT64 ", after cr3 reload: "
        HEX64 rax, 8
        PRINT64 10

        ; SMEP / SMAP
        mov eax, 7
        xor ecx, ecx
        cpuid
        mov r15d, ebx
        bt r15d, 7
        jnc .nosmep
        mov rax, cr4
        bts rax, 20
        mov cr4, rax
        mov rax, VA + 0x5000
        BEGIN "supervisor fetch from a user page, SMEP", VA + 0x5000
        call rax
        END
        mov rax, cr4
        btr rax, 20
        mov cr4, rax
        mov rax, VA + 0x5000
        call rax
        PRINT64 "same call without SMEP: ok", 10
        jmp .smap
.nosmep: PRINT64 "SMEP: not in CPUID", 10
.smap:  bt r15d, 20
        jnc .nosmap
        mov rax, cr4
        bts rax, 21
        mov cr4, rax
        EXPECT "supervisor read of a user page, SMAP", mov eax, [VA + 0x5000]
        stac
        mov al, [VA + 0x5000]
        clac
        PRINT64 "same read after STAC: "
        HEX64 rax, 2
        PRINT64 10
        mov rax, cr4
        btr rax, 21
        mov cr4, rax
        jmp .user
.nosmap: PRINT64 "SMAP: not in CPUID", 10

.user:  mov rdi, user_main
        call enter_ring3
        PRINT64 "done", 10
        EXIT64 0

        align 4096
user_start:
user_main:
        mov al, [VA + 0x5000]
        PRINT3 "ring 3 read of a user page: "
        HEX3 rax, 2
        PRINT3 10
        EXPECT3 "ring 3 read of a supervisor page", mov eax, [VA]
        EXPECT3 "ring 3 write to a read-only user page", mov [VA + 0x6000], eax
        EXPECT3 "ring 3 read, not present", mov eax, [VA + 0x1000]
        mov rax, VA + 0x5000
        call rax
        PRINT3 "ring 3 call into a user page: ok", 10
        int 0x82
        align 4096
user_end:

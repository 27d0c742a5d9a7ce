// The contract between the x64 CPU (src/emulator) and the VMM side above it (src/partition).
//
// The CPU runs until something the VMM must decide happens (an intercept), then returns
// a CpuExitReason and leaves the details in `cpu.exit`. The intercepted instruction has
// NOT retired: RIP still points at it. The VMM then either completes it (supplying the
// value an IN/RDMSR/CPUID/MMIO read returns, or accepting the written value), which
// retires it, or injects an exception, or leaves it pending (the next run() re-executes
// it and exits again). This is the WHP/Hyper-V model: the VMM, not the CPU, decides what
// a port, an MSR or an MMIO address does.
//
// Everything here is the cold path. 64-bit values cross this seam as bigint; the CPU's
// hot path must not use bigint.

/** Why run() returned. The partition maps these to WHV_RUN_VP_EXIT_REASON codes. */
export enum CpuExitReason {
  /** The instruction budget given to run() was used up (or a single step finished). */
  BudgetExhausted = 0,
  /** IN/OUT/INS/OUTS. One exit per element for string I/O. */
  IoPort = 1,
  /** RDMSR/WRMSR of an MSR the CPU does not implement itself, or one in the MSR-exit set. */
  MsrAccess = 2,
  /** CPUID (always exits; the VMM supplies the result, defaults are in exit.cpuid.default*). */
  Cpuid = 3,
  /** HLT with no interrupt deliverable. RIP is past the HLT (it retired). */
  Halt = 4,
  /** Access to a guest-physical address that is unmapped or whose mapping forbids it. */
  MemoryAccess = 5,
  /** An exception whose vector is set in the exception-exit bitmap, before delivery. */
  Exception = 6,
  /** VMCALL (from CPL 0, outside real mode; otherwise the CPU raises #UD itself). */
  Hypercall = 7,
  /** RDTSC/RDTSCP while rdtsc exiting is on. */
  Rdtsc = 8,
  /** Triple fault, or shutdown. The VP cannot continue. */
  TripleFault = 9,
  /** The guest used something the emulator does not model (e.g. virtual-8086 mode). */
  UnsupportedFeature = 10,
  /** Interrupts became deliverable while an interrupt window was requested. */
  InterruptWindow = 11,
  /** cancel() was called (possibly from a timer while run() was executing). */
  Canceled = 12,
  /** A debugger instruction breakpoint (setInstructionBreakpoints) at the current RIP. */
  Breakpoint = 13,
  /** A debugger watchpoint (setWatchpoints) was touched; exit.watch holds details. RIP is past the instruction. */
  Watchpoint = 14,
  /** An internal emulator error; exit.message says what. State is left as it was before the instruction. */
  InternalError = 15,
  /** A write to the local APIC EOI register while APIC EOI exiting is on. */
  ApicEoi = 16,
}

/** Hidden part of a segment register, as the HV_X64_SEGMENT_REGISTER encoding holds it. */
export interface SegmentValue {
  base: bigint;
  limit: number;
  selector: number;
  /** 16-bit attributes: Type(3:0) S(4) DPL(6:5) P(7) reserved(11:8) AVL(12) L(13) D/B(14) G(15). */
  attributes: number;
}

export interface TableValue {
  base: bigint;
  limit: number;
}

export enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 }

export enum MemoryAccessType { Read = 0, Write = 1, Execute = 2 }

/** Details of the last exit. One object, reused (mutated) for every exit. */
export interface CpuExitInfo {
  /** Bytes of the intercepted instruction (length = instructionBytes.length, at most 15). */
  instructionLength: number;
  instructionBytes: Uint8Array;
  io: {
    port: number; size: 1 | 2 | 4; isWrite: boolean; isString: boolean; rep: boolean;
    /** Value written by OUT/OUTS (low `size` bytes). */
    value: number;
    /** Segment of a string source/destination (DS or override for OUTS, ES for INS). */
    segment: Seg;
  };
  msr: { index: number; isWrite: boolean; /** Value written, as EDX:EAX. */ value: bigint };
  cpuid: {
    leaf: number; subleaf: number;
    /** What the CPU model would return on its own. */
    defaultEax: number; defaultEbx: number; defaultEcx: number; defaultEdx: number;
  };
  memory: {
    gpa: bigint; gva: bigint; gvaValid: boolean; accessType: MemoryAccessType;
    /** True when no mapping covers the GPA (false: a mapping exists but forbids the access). */
    gpaUnmapped: boolean;
    size: number;
    /** For writes: the bytes being written (length = size). */
    data: Uint8Array;
  };
  exception: { vector: number; hasErrorCode: boolean; errorCode: number; /** CR2 for #PF, DR6 for #DB. */ parameter: bigint };
  watch: { address: bigint; size: number; isWrite: boolean; physical: boolean };
  /** For InternalError and UnsupportedFeature. */
  message: string;
}

/**
 * Something that can raise external interrupts (the PIC/APIC model in src/machine). The run loop
 * polls it between blocks, but translated code runs on until its instruction budget ends or an
 * instruction changes what the poll depends on (RFLAGS.IF, TPR, an EOI or an exit): like a
 * device model advanced between run() calls, its answer must change only then (or the VMM
 * calls cancel, or runs shorter slices).
 */
export interface InterruptSource {
  /** Vector of the highest-priority pending maskable interrupt, or -1. Must not change state. */
  pendingVector(): number;
  /** The CPU accepted the interrupt returned by pendingVector(); returns the vector to deliver. */
  acknowledge(): number;
}

/** What a PortIoHandler did with an IN/OUT. */
export enum PortIoStatus {
  /** Not handled, nothing happened: the instruction exits (IoPort) as usual. */
  Exit = 0,
  /** Done: the instruction retires; the CPU polls interrupts again before the next one, as after an exit. */
  Done = 1,
  /** Done, and run() returns BudgetExhausted as soon as the instruction retires (the VMM's loop must run). */
  DoneStop = 2,
}

/**
 * Port I/O the VMM completes in-process instead of through an IoPort exit — like the in-kernel
 * I/O bus of KVM, which serves the ports of its own device models without a trip to user
 * space. The CPU offers each plain IN/OUT (after the IOPL/TSS permission check) to the handler;
 * string I/O, and instructions run with TF or DR7 breakpoints set, always exit. A VMM that must
 * see an access (a debugger filter, a device that ends the run) answers Exit for it.
 */
export interface PortIoHandler {
  /** Set by read() when it returns Done/DoneStop: what IN receives (low `size` bytes). */
  value: number;
  read(port: number, size: 1 | 2 | 4): PortIoStatus;
  write(port: number, size: 1 | 2 | 4, value: number): PortIoStatus;
}

export interface Watchpoint {
  address: bigint;
  size: number;
  read: boolean;
  write: boolean;
  /** Guest-physical (true) or guest-linear (false) address. */
  physical: boolean;
}

/**
 * The VMM-facing view of one virtual CPU. Register names follow the architecture
 * (the partition maps HV_REGISTER_NAME codes onto these).
 */
export interface VirtualCpu {
  readonly exit: CpuExitInfo;
  /** Retired instructions since reset (a REP iteration counts as one). */
  readonly instructionCount: number;

  /** Runs at most `maxInstructions` instructions; returns why it stopped. */
  run(maxInstructions: number): CpuExitReason;
  /** Makes a running or the next run() return Canceled as soon as possible. */
  cancel(): void;
  /** Power-on reset (architectural reset state). */
  reset(): void;

  // Completing the intercepted instruction. Each retires it (advances RIP, counts it).
  completeIo(readValue?: number): void;
  completeMsr(readValue?: bigint): void;
  completeCpuid(eax: number, ebx: number, ecx: number, edx: number): void;
  /** MMIO: supply the value of a read (bytes, little-endian) or accept a write; the instruction is re-executed with it. */
  completeMemoryAccess(readData?: Uint8Array): void;
  /** RDTSC/RDTSCP exits, and hypercalls after the VMM has set the result registers. */
  skipInstruction(): void;
  /** Queue an exception (or a software-visible fault) for delivery at the next run(). */
  injectException(vector: number, errorCode?: number): void;
  /** After an Exception exit: drop the exception instead of delivering it. */
  clearPendingException(): void;

  // Intercept configuration.
  setExceptionExitBitmap(bitmap: number): void;
  /** MSRs that always exit even when the CPU implements them (e.g. EFER for a VMM that tracks it). */
  setMsrExits(indices: Iterable<number>, unknownMsrsExit: boolean): void;
  setRdtscExiting(on: boolean): void;
  setInterruptWindowExiting(on: boolean): void;
  setInterruptSource(source: InterruptSource | undefined): void;
  /** In-process port I/O (see PortIoHandler); undefined: every IN/OUT exits. Optional for CPUs without it. */
  setPortIoHandler?(handler: PortIoHandler | undefined): void;
  /** Debugger instruction breakpoints, by guest-linear address of the first byte. */
  setInstructionBreakpoints(addresses: Iterable<bigint>): void;
  setWatchpoints(list: readonly Watchpoint[]): void;

  // Register access (cold path).
  getGpr(index: number): bigint;
  setGpr(index: number, value: bigint): void;
  getRip(): bigint;
  setRip(value: bigint): void;
  getRflags(): bigint;
  setRflags(value: bigint): void;
  getSegment(seg: Seg): SegmentValue;
  setSegment(seg: Seg, value: SegmentValue): void;
  getTr(): SegmentValue; setTr(value: SegmentValue): void;
  getLdtr(): SegmentValue; setLdtr(value: SegmentValue): void;
  getGdtr(): TableValue; setGdtr(value: TableValue): void;
  getIdtr(): TableValue; setIdtr(value: TableValue): void;
  /** CR0, CR2, CR3, CR4, CR8 by number. Writing one with an illegal value throws RangeError. */
  getCr(n: 0 | 2 | 3 | 4 | 8): bigint;
  setCr(n: 0 | 2 | 3 | 4 | 8, value: bigint): void;
  /** DR0-DR3, DR6, DR7 by number. */
  getDr(n: number): bigint;
  setDr(n: number, value: bigint): void;
  getXcr0(): bigint; setXcr0(value: bigint): void;
  /** Architectural MSRs the CPU implements (EFER, FS/GS base, STAR..., PAT, TSC, APIC_BASE...). undefined if not implemented. */
  getMsr(index: number): bigint | undefined;
  /** Returns false if the MSR is not implemented by the CPU or the value is illegal. */
  setMsr(index: number, value: bigint): boolean;
  /** 128-bit XMM register as two 64-bit halves [low, high]. */
  getXmm(index: number): [bigint, bigint];
  setXmm(index: number, low: bigint, high: bigint): void;
  getMxcsr(): number; setMxcsr(value: number): void;
  /** x87 state: control word, status word, abridged tag (FXSAVE form), last opcode/ip/dp. */
  getFpuControl(): { fcw: number; fsw: number; ftw: number; fop: number; fip: bigint; fdp: bigint };
  setFpuControl(v: { fcw: number; fsw: number; ftw: number; fop: number; fip: bigint; fdp: bigint }): void;
  /** Interrupt shadow (STI / MOV SS) active for the next instruction. */
  getInterruptShadow(): boolean;
  setInterruptShadow(on: boolean): void;
  /** Pending (injected, not yet delivered) exception, if any. */
  getPendingEvent(): { vector: number; hasErrorCode: boolean; errorCode: number } | undefined;

  // Guest memory as this VP sees it (debugger, hypercall argument pages). Cold path.
  /** Translates a guest-linear address through the current paging mode; undefined if not mapped. No A/D updates. */
  translate(linear: bigint, access: MemoryAccessType, asSupervisor?: boolean): bigint | undefined;
  /** CPL and mode, derived from state. */
  getCpl(): number;
  getMode(): 'real' | 'protected16' | 'protected32' | 'compatibility' | 'long64' | 'v8086';
}

export interface GpaPermissions { read: boolean; write: boolean; execute: boolean }

/**
 * Guest-physical memory shared by all VPs of a partition (implemented in
 * physicalMemory.ts). GPAs are plain numbers (< 2^52). RAM is sparse: pages are
 * allocated when first written, so a 64 GiB partition costs only what the guest touches.
 * Addresses no mapping covers, or a mapping forbids, give MemoryAccess exits.
 */
export interface GuestPhysicalMemory {
  mapRam(gpa: number, size: number, permissions: GpaPermissions): void;
  /** Read-only (unless permissions say otherwise) range initialised from `data`. */
  mapRom(gpa: number, data: Uint8Array, permissions?: GpaPermissions): void;
  unmap(gpa: number, size: number): void;
  /** Mapping covering `gpa`, or undefined. */
  lookup(gpa: number): { gpa: number; size: number; permissions: GpaPermissions; rom: boolean } | undefined;
  /** Cold-path copies for loaders, debuggers and hypercalls; ignore permissions; false if any byte is unmapped. */
  read(gpa: number, dst: Uint8Array): boolean;
  write(gpa: number, src: Uint8Array): boolean;
  /** Host bytes allocated for guest pages. */
  residentBytes(): number;
}

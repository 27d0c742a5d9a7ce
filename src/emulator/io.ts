// IN/OUT/INS/OUTS: privilege checks (IOPL, then the TSS I/O permission bitmap), then an
// IoPort exit; the VMM supplies the IN value through completeIo(), which retires the
// instruction (one element per exit for string I/O; REP keeps RIP until rCX reaches 0).
// A plain IN/OUT may instead complete in-process through the VMM's PortIoHandler, without
// the exit's unwinding (a thrown EXIT costs microseconds; the in-process call, nanoseconds).

import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { CpuExitReason, PortIoStatus, Seg } from './vcpu';
import { DF, TF, VM } from './flags';
import { CR0_PE } from './paging';
import { advance, countZero, strAddr } from './stringRegisters';

/** SDM 19.5: I/O allowed at CPL <= IOPL, else only if the TSS bitmap clears every port bit. */
function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (!(c.cr0 & CR0_PE)) return;
  const iopl = (c.flags >> 12) & 3;
  if (!(c.flags & VM) && c.cpl <= iopl) return;
  // 32/64-bit TSS only (type 9/11); the bitmap offset is at 0x66.
  const trType = c.segAttr[7] & 0xf;
  if (trType !== 9 && trType !== 11) c.gp(0);
  const limit = c.segLimit[7];
  if (limit < 0x67) c.gp(0);
  c.implicitSupervisor = true;
  try {
    const base = c.segBaseLo[7], baseHi = c.long64 ? c.segBaseHi[7] : 0;
    const mapOff = c.read16((base + 0x66) | 0, baseHi);
    const byteOff = mapOff + (port >>> 3);
    if (byteOff + 1 > limit) c.gp(0);
    const bits = c.read16((base + byteOff) | 0, baseHi);
    if ((bits >>> (port & 7)) & ((1 << size) - 1)) c.gp(0);
  } finally {
    c.implicitSupervisor = false;
  }
}

/** op: 0 IN AL/eAX, imm8; 1 IN, DX; 2 OUT imm8; 3 OUT DX; 4 INS; 5 OUTS. */
export function ioInsn(c: Cpu, d: Insn): void {
  const size = d.os === 8 ? 4 : d.os;
  const port = d.op === 0 || d.op === 2 ? d.imm & 0xff : c.r[2] & 0xffff;
  checkIoPermission(c, port, size);
  if (c.portIo !== undefined && d.op < 4 && !(c.flags & TF) && !(c.dr7 & 0xff) && handleInProcess(c, d.op, port, size as 1 | 2 | 4)) return;
  const io = c.exit.io;
  io.port = port; io.size = size as 1 | 2 | 4; io.isString = d.op >= 4; io.rep = d.rep !== 0; io.value = 0;
  io.segment = d.op === 4 ? Seg.ES : (d.segOvr >= 0 ? d.segOvr : Seg.DS);
  if (d.op >= 4 && d.rep !== 0 && countZero(c, d.as)) return;
  switch (d.op) {
    case 0: case 1: io.isWrite = false; break;
    case 2: case 3: io.isWrite = true; io.value = size === 4 ? c.r[0] >>> 0 : c.r[0] & (size === 1 ? 0xff : 0xffff); break;
    case 4: {
      io.isWrite = false;
      // Make sure the completion's store cannot fault.
      const lin = strAddr(c, Seg.ES, 7, d.as, size, true);
      if (!c.probeWrite(lin, c.hi, size)) c.unsupported('INS into MMIO (a port read stored to an unbacked GPA) is not emulated');
      break;
    }
    default: {
      io.isWrite = true;
      const lin = strAddr(c, io.segment, 6, d.as, size, false);
      const v = c.readN(lin, c.hi, size);
      io.value = size === 4 ? v >>> 0 : v;
      break;
    }
  }
  c.exitWith(CpuExitReason.IoPort, d);
}

/**
 * Offers a plain IN/OUT to the VMM's in-process handler (vcpu.ts PortIoHandler). When it takes
 * the access the instruction retires like any other, and the block ends so that interrupts are
 * polled before the next instruction — as they are when run() restarts after an exit.
 */
function handleInProcess(c: Cpu, op: number, port: number, size: 1 | 2 | 4): boolean {
  const h = c.portIo!;
  let status: PortIoStatus;
  if (op >= 2) {
    status = h.write(port, size, size === 4 ? c.r[0] >>> 0 : c.r[0] & (size === 1 ? 0xff : 0xffff));
    if (status === PortIoStatus.Exit) return false;
  } else {
    status = h.read(port, size);
    if (status === PortIoStatus.Exit) return false;
    const v = h.value;
    c.setReg(0, size, size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff), 0);
  }
  if (status === PortIoStatus.DoneStop) c.stopAfterInstruction(); else c.breakLoop = true;
  return true;
}

/** Completion of an intercepted I/O instruction (called with nextLo/nextHi already past it). */
export function completeIoInsn(c: Cpu, d: Insn, value: number): void {
  const size = d.os === 8 ? 4 : d.os;
  const delta = (c.flags & DF) ? -size : size;
  switch (d.op) {
    case 0: case 1: c.setReg(0, size, size === 4 ? value | 0 : value & (size === 1 ? 0xff : 0xffff), 0); return;
    case 2: case 3: return;
    case 4: {
      if (d.rep !== 0 && countZero(c, d.as)) return;
      const lin = strAddr(c, Seg.ES, 7, d.as, size, true);
      c.writeN(lin, c.hi, size, value | 0, 0);
      advance(c, 7, d.as, delta);
      break;
    }
    default:
      if (d.rep !== 0 && countZero(c, d.as)) return;
      advance(c, 6, d.as, delta);
      break;
  }
  if (d.rep !== 0) {
    advance(c, 1, d.as, -1);
    if (!countZero(c, d.as)) { c.nextLo = c.ripLo; c.nextHi = c.ripHi; }
  }
}

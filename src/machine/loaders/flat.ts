// Flat binaries: the bytes are copied to one address and run from there. A boot sector
// (0x55 0xAA at offset 510) starts the way a PC BIOS starts it: at 0000:7C00 in real mode
// with DL = 0x80 (the first hard disk) and SS:SP = 0000:7C00.

import { BootPlan, LoadOptions, checkEntry, entryState, validateSegments, BootSegment } from './bootPlan';
import { ImageError } from './imageError';

export const BOOT_SECTOR_ADDRESS = 0x7c00;

export function isBootSector(data: Uint8Array): boolean {
  return data.length >= 512 && data[510] === 0x55 && data[511] === 0xaa;
}

export function loadFlat(data: Uint8Array, file: string, options: LoadOptions): BootPlan {
  if (data.length === 0) throw new ImageError(file, 'the file is empty');
  const load = options.load ?? BOOT_SECTOR_ADDRESS;
  const entry = options.entry ?? load;
  const mode = options.mode ?? 'real';
  const bootSector = isBootSector(data);
  const segments: BootSegment[] = [{ gpa: load, data, memSize: data.length, what: 'flat image' }];
  validateSegments(file, segments, options.memoryBytes);
  checkEntry(file, entry, segments, options.memoryBytes, false);
  const state = entryState(file, mode, entry, segments, options.memoryBytes);
  validateSegments(file, segments, options.memoryBytes);
  const notes = [`flat binary, ${data.length} bytes at 0x${load.toString(16)}, ${mode} mode`];
  if (bootSector && mode === 'real') {
    state.gprs.rdx = 0x80n;
    state.gprs.rsp = BigInt(BOOT_SECTOR_ADDRESS);
    notes.push('boot sector signature 0x55AA: DL = 0x80, SS:SP = 0000:7C00');
  }
  return { file, format: 'flat', entry: BigInt(entry), segments, state, notes };
}

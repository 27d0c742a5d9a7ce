// Chooses the loader by content: ELF magic, a multiboot header, else a flat binary.
// LoadOptions.format overrides the choice.

import { readFileSync } from 'node:fs';
import { BootPlan, LoadOptions } from './bootPlan';
import { isElf } from './elf';
import { loadElf } from './elfImage';
import { loadFlat } from './flat';
import { ImageError } from './imageError';
import { findMultibootHeader, loadMultiboot } from './multiboot';

export function loadImageBytes(data: Uint8Array, file: string, options: LoadOptions): BootPlan {
  if (!Number.isSafeInteger(options.memoryBytes) || options.memoryBytes <= 0) throw new ImageError(file, `invalid memory size ${options.memoryBytes}`);
  const format = options.format ?? 'auto';
  if (format === 'flat') return loadFlat(data, file, options);
  if (format === 'elf') return loadElf(data, file, options);
  if (format === 'multiboot') return loadMultiboot(data, file, options);
  if (data.length === 0) throw new ImageError(file, 'the file is empty');
  const header = findMultibootHeader(data, file);
  if (header) return loadMultiboot(data, file, options, header);
  if (isElf(data)) return loadElf(data, file, options);
  return loadFlat(data, file, options);
}

export function loadImageFile(file: string, options: LoadOptions): BootPlan {
  let data: Uint8Array;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new ImageError(file, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return loadImageBytes(data, file, options);
}

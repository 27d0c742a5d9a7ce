// Exception vectors and the preallocated objects the CPU throws to unwind an instruction.
// Throwing a shared plain object (no Error, no stack capture) is what V8 handles cheaply;
// the details travel in CPU fields, so raising a fault allocates nothing.

export const enum Vec {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
}

/** Thrown when an instruction raises an exception; the CPU's fault* fields say which. */
export const FAULT = { kind: 'fault' as const };
/** Thrown when an instruction must leave run() with an intercept exit (not retired). */
export const EXIT = { kind: 'exit' as const };

/** Vectors that push an error code in protected/long mode. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17 || vector === 21 || vector === 29 || vector === 30;
}

/** Contributory exceptions (SDM 6.15, table 6-4): two of them in a row make #DF. */
export function isContributory(vector: number): boolean {
  return vector === 0 || (vector >= 10 && vector <= 13);
}

/** Faults report the RIP of the faulting instruction; these vectors are traps or aborts reported after it. */
export function isTrapVector(vector: number): boolean {
  return vector === 3 || vector === 4;
}

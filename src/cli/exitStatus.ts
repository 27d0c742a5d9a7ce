// The process exit statuses of `vpdbg run` (documented in README "Command line"). Guest
// exits through isa-debug-exit give (value << 1) | 1, which is always odd; vpdbg's own
// statuses are even so the two never collide.
export const ExitStatus = {
  /** Every processor halted with interrupts disabled (or waits for an interrupt nothing can raise). */
  Halted: 0,
  /** Bad command-line arguments. */
  Usage: 2,
  /** The image could not be read or loaded. */
  ImageError: 4,
  /** Triple fault or another unrecoverable guest state (invalid VP state, executing unmapped memory). */
  GuestCrashed: 6,
  /** --max-instructions reached. */
  InstructionLimit: 8,
  /** --timeout reached. */
  Timeout: 10,
  /** The guest asked for a reset (i8042 0xFE), which ends the run as QEMU's -no-reboot does. */
  Reset: 12,
  /** The emulator hit an internal error or a feature it does not model. */
  EmulatorError: 14,
} as const;

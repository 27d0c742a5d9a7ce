// The text test/guests/perf-serial.asm writes on COM1, for tests that check it byte for byte.

/** The first `lines` lines of perf-serial's output: an 8-digit hex line number, a space, 54 letters. */
export function perfSerialText(lines: number): string {
  let s = '';
  for (let k = 0; k < lines; k++) {
    s += k.toString(16).padStart(8, '0') + ' ';
    for (let j = 0; j < 54; j++) s += String.fromCharCode(65 + ((k + j) % 26));
    s += '\n';
  }
  return s;
}

// 16550A UART (COM1 at 0x3F8, IRQ 4). Transmission is instantaneous: every byte written to
// THR goes to the output callback at once, so THR and the transmitter always read empty
// and guests that poll LSR bit 5 never wait. Received bytes come from feed().
import type { Device, IrqLine, PortRange } from './device';

const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const IER_RDA = 0x01, IER_THRE = 0x02, IER_RLS = 0x04;
const MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
const FIFO_SIZE = 16;

export class Uart16550 implements Device {
  enabled = true;
  readonly ports: readonly PortRange[];
  private ier = 0; private lcr = 0x03; private mcr = 0; private scr = 0; private fcr = 0;
  private dll = 0x0c; private dlm = 0; // 9600 baud
  private lsrErrors = 0;
  private thrInterrupt = false;
  private readonly rx: number[] = [];
  /** Bytes waiting because the receive FIFO (or holding register) was full. */
  private readonly input: number[] = [];

  constructor(readonly name: string, readonly base: number, private readonly output: (byte: number) => void, private readonly irq: IrqLine = () => {}) {
    this.ports = [{ base, count: 8 }];
  }

  /** Queues bytes for the guest to receive. */
  feed(bytes: Uint8Array | number[]): void {
    for (const b of bytes) this.input.push(b & 0xff);
    this.fillRx();
    this.updateIrq();
  }

  get pendingInput(): number { return this.input.length + this.rx.length; }

  private fillRx(): void {
    const cap = this.fcr & 1 ? FIFO_SIZE : 1;
    while (this.input.length > 0 && this.rx.length < cap) this.rx.push(this.input.shift()!);
  }

  private lsr(): number {
    return (this.rx.length > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT | this.lsrErrors;
  }

  private iir(): number {
    const fifo = this.fcr & 1 ? 0xc0 : 0;
    if (this.ier & IER_RLS && this.lsrErrors) return fifo | 0x06;
    if (this.ier & IER_RDA && this.rx.length > 0) return fifo | 0x04;
    if (this.ier & IER_THRE && this.thrInterrupt) return fifo | 0x02;
    return fifo | 0x01;
  }

  private updateIrq(): void {
    this.irq((this.iir() & 1) === 0 && (this.mcr & MCR_OUT2) !== 0);
  }

  ioRead(port: number): number {
    const dlab = this.lcr & 0x80;
    let v: number;
    switch (port - this.base) {
      case 0:
        if (dlab) { v = this.dll; break; }
        v = this.rx.shift() ?? 0;
        this.fillRx();
        break;
      case 1: v = dlab ? this.dlm : this.ier; break;
      case 2: {
        v = this.iir();
        if ((v & 0x0f) === 0x02) this.thrInterrupt = false; // reading IIR acknowledges THRE
        break;
      }
      case 3: v = this.lcr; break;
      case 4: v = this.mcr; break;
      case 5: v = this.lsr(); this.lsrErrors = 0; break;
      case 6:
        // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD; otherwise a connected modem.
        v = this.mcr & MCR_LOOP ? ((this.mcr & 1) << 5) | ((this.mcr & 2) << 3) | ((this.mcr & 4) << 4) | ((this.mcr & 8) << 4) : 0xb0;
        break;
      default: v = this.scr;
    }
    this.updateIrq();
    return v;
  }

  ioWrite(port: number, _size: number, value: number): void {
    value &= 0xff;
    const dlab = this.lcr & 0x80;
    switch (port - this.base) {
      case 0:
        if (dlab) { this.dll = value; break; }
        if (this.mcr & MCR_LOOP) this.receiveLoopback(value);
        else this.output(value);
        this.thrInterrupt = true; // the byte left at once: THR is empty again
        break;
      case 1:
        if (dlab) { this.dlm = value; break; }
        if (value & IER_THRE && !(this.ier & IER_THRE)) this.thrInterrupt = true;
        this.ier = value & 0x0f;
        break;
      case 2:
        if ((value & 1) !== (this.fcr & 1) || value & 2) this.rx.length = 0;
        this.fcr = value & 0xc9;
        this.fillRx();
        break;
      case 3: this.lcr = value; break;
      case 4: this.mcr = value & 0x1f; break;
      case 5: case 6: break; // LSR and MSR are read-only
      default: this.scr = value;
    }
    this.updateIrq();
  }

  private receiveLoopback(value: number): void {
    const cap = this.fcr & 1 ? FIFO_SIZE : 1;
    if (this.rx.length >= cap) { this.lsrErrors |= LSR_OE; return; }
    this.rx.push(value);
  }
}

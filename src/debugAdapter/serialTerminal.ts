// `"serial": "terminal"`: COM1 in an integrated terminal, both ways. The adapter listens on a
// 127.0.0.1 port and asks the client (runInTerminal) to start a tiny Node bridge there that
// pipes the terminal's keystrokes to the guest's UART and the guest's output back.
import * as net from 'node:net';

/** The bridge the terminal runs: `node -e BRIDGE PORT`. Ctrl-] closes it. */
const BRIDGE = [
  "const s=require('net').connect(+process.argv[1],'127.0.0.1');",
  "if(process.stdin.isTTY)process.stdin.setRawMode(true);",
  "process.stdin.on('data',d=>{if(d.includes(0x1d))process.exit(0);s.write(d)});",
  "s.pipe(process.stdout);s.on('close',()=>process.exit(0));s.on('error',()=>process.exit(1));",
].join('');

export class SerialTerminal {
  private readonly server: net.Server;
  private socket: net.Socket | undefined;
  private backlog: Buffer[] = [];
  private closed = false;

  constructor(private readonly onInput: (bytes: Uint8Array) => void) {
    this.server = net.createServer((sock) => {
      if (this.socket || this.closed) { sock.destroy(); return; }
      this.socket = sock;
      sock.on('data', (d: Buffer) => this.onInput(new Uint8Array(d)));
      sock.on('error', () => sock.destroy());
      sock.on('close', () => { this.socket = undefined; });
      for (const b of this.backlog) sock.write(b);
      this.backlog = [];
    });
  }

  /** Listens on an ephemeral 127.0.0.1 port; resolves with the command the terminal runs. */
  listen(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const a = this.server.address();
        resolve([process.execPath, '-e', BRIDGE, String(typeof a === 'object' && a ? a.port : 0)]);
      });
    });
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    // Output before the terminal connects is kept (bounded) and sent on connect.
    if (this.socket) this.socket.write(bytes);
    else if (this.backlog.reduce((n, b) => n + b.length, 0) < 16 << 20) this.backlog.push(Buffer.from(bytes));
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
    this.server.close();
  }
}

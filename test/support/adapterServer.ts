// The port a `node dist/debugAdapter.js --server=0` child listens on, read from the line it
// prints on stderr ("listening on 127.0.0.1:PORT"); rejects if the child exits first.
import type { ChildProcess } from 'node:child_process';

export function serverPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((res, rej) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) res(Number(m[1]));
    });
    child.on('exit', () => rej(new Error(`adapter exited: ${err}`)));
  });
}

/** A guest image that cannot be loaded: the message names the file and the problem. */
export class ImageError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ImageError';
  }
}

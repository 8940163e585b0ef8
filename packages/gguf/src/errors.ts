/** A malformed or unsupported GGUF file. `offset` is the file offset where the problem was found. */
export class GgufError extends Error {
  readonly offset: number;
  readonly reason: string;
  path?: string;

  constructor(reason: string, offset: number, path?: string) {
    super(`${path ? `GGUF ${path}: ` : "GGUF: "}${reason} at offset ${offset}`);
    this.name = "GgufError";
    this.offset = offset;
    this.reason = reason;
    this.path = path;
  }

  /** Same error, with the file path in the message. */
  withPath(path: string): GgufError {
    return new GgufError(this.reason, this.offset, path);
  }
}

/**
 * Buffers of chunk samples a thread takes again instead of allocating: a fresh 4 MiB buffer cost
 * the kernel's page faults, and its memory, outside the garbage collector's heap, made the thread
 * collect more often. Each pool keeps at most `maxBytes`; a buffer is given back only once nothing
 * reads it any more.
 */
export class SpareBuffers {
  private readonly spare: Uint8Array[] = [];
  private kept = 0;

  /** `allocate`: a new buffer of `bytes`, zeroed (memory the threads share, for instance). */
  constructor(
    private readonly maxBytes: number,
    private readonly allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
  ) {}

  /** A buffer of `bytes`, zeroed unless `zeroed` is false (the caller writes every byte). */
  take(bytes: number, zeroed = true): Uint8Array {
    const i = this.spare.findIndex((s) => s.byteLength === bytes);
    if (i < 0) return this.allocate(bytes);
    const buffer = this.spare.splice(i, 1)[0]!;
    this.kept -= buffer.byteLength;
    return zeroed ? buffer.fill(0) : buffer;
  }

  give(buffer: Uint8Array): void {
    if (this.kept + buffer.byteLength > this.maxBytes) return;
    this.spare.push(buffer);
    this.kept += buffer.byteLength;
  }
}

/**
 * Buffers of chunk samples a thread takes again instead of allocating: a fresh 4 MiB buffer cost
 * the kernel's page faults, and its memory, outside the garbage collector's heap, made the thread
 * collect more often. Each pool keeps at most `maxBytes`; a buffer is given back only once nothing
 * reads it any more.
 *
 * A full pool makes room for a buffer given back by letting go of spares of other sizes, oldest
 * first: they were an earlier job's (a 16-bit stack's 8 MiB chunks), and kept, they would leave
 * every later job of another size allocating all its chunks afresh. An 8-bit job after a 16-bit
 * one on the same warm worker took 0.625 s and 1.10 CPU-s (medians of 12, interleaved) against
 * 0.558 s and 0.96 after an 8-bit one.
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
    const bytes = buffer.byteLength;
    for (let i = 0; this.kept + bytes > this.maxBytes && i < this.spare.length;) {
      if (this.spare[i]!.byteLength === bytes) i++;
      else this.kept -= this.spare.splice(i, 1)[0]!.byteLength;
    }
    if (this.kept + bytes > this.maxBytes) return;
    this.spare.push(buffer);
    this.kept += bytes;
  }
}

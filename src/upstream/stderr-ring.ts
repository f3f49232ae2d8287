/**
 * Keeps the last bytes a child wrote to stderr. The pipe is always drained (a server whose stderr
 * pipe fills up blocks on its next write, SPEC §5 / §11), but only a bounded tail is kept for
 * error messages.
 */
export class StderrRing {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly capacityBytes = 16 * 1024) {}

  push(chunk: Buffer): void {
    if (chunk.length >= this.capacityBytes) {
      this.chunks = [chunk.subarray(chunk.length - this.capacityBytes)];
      this.size = this.capacityBytes;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.capacityBytes) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** The last `maxLines` non-empty lines, oldest first. */
  tail(maxLines = 10): string[] {
    const text = Buffer.concat(this.chunks).toString('utf8');
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
    // The first line may be cut in the middle once the ring has wrapped; it is still the best we have.
    return lines.slice(-maxLines);
  }
}

/**
 * At most `size` runs at once in this process. `acquire` waits its turn (first come, first served);
 * `free` is what a queue worker may fetch without making a waiting run wait longer.
 */
export class RunSlots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  private released: (() => void)[] = [];

  constructor(readonly size: number) {}

  get free(): number {
    return Math.max(0, this.size - this.used - this.waiting.length);
  }

  get busy(): number {
    return this.used;
  }

  /** Takes a slot, waiting for one when all are in use. */
  async acquire(): Promise<void> {
    if (this.used < this.size && this.waiting.length === 0) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Takes a slot that `free` said is there. */
  take(): void {
    this.used++;
  }

  /** Gives a slot back: to the first waiting run, or to the pool. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
    const wake = this.released;
    this.released = [];
    for (const w of wake) w();
  }

  /** Resolves at the next `release`. */
  nextRelease(): Promise<void> {
    return new Promise<void>((resolve) => this.released.push(resolve));
  }
}

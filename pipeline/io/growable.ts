/** A typed-array column that grows by doubling, for readers that do not know their row count. */
export class Growable<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array> {
  constructor(public data: T, private readonly make: (n: number) => T) {}
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(1024, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

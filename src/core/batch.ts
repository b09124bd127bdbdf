// Coalesces look-ups made during one turn of the event loop into one query (the DataLoader pattern): under load,
// dozens of concurrent requests for hot, tiny reads share one round trip instead of paying one each.
interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (err: unknown) => void;
}

export class Batcher<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  private scheduled = false;
  private readonly load: (keys: K[]) => Promise<Map<K, V>>;

  constructor(load: (keys: K[]) => Promise<Map<K, V>>) {
    this.load = load;
  }

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        // After this turn's I/O callbacks: every request parsed in this turn joins the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    try {
      const values = await this.load([...batch.keys()]);
      for (const [key, waiters] of batch) for (const w of waiters) w.resolve(values.get(key));
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    }
  }
}

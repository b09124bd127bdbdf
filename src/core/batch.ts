// Coalesces concurrent look-ups into one query (the DataLoader pattern): under load, dozens of concurrent requests
// for hot, tiny reads share one round trip instead of paying one each. One query is in flight at a time: what
// arrives while it runs waits for it and goes into the next, so the batch grows with the load (and the database
// sees one query per round trip, not one per event-loop turn). Alone, a look-up goes out after this turn.
interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (err: unknown) => void;
}

export class Batcher<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  private scheduled = false;
  private inFlight = false;
  private readonly load: (keys: K[]) => Promise<Map<K, V>>;

  constructor(load: (keys: K[]) => Promise<Map<K, V>>) {
    this.load = load;
  }

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.pending.size === 0) return;
    this.scheduled = true;
    // After this turn's I/O callbacks: every request parsed in this turn joins the batch.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    this.inFlight = true;
    try {
      const values = await this.load([...batch.keys()]);
      for (const [key, waiters] of batch) for (const w of waiters) w.resolve(values.get(key));
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    } finally {
      this.inFlight = false;
      this.schedule();
    }
  }
}

interface Queued<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit in the application: per key, one run at a time, and whatever arrives while it runs becomes the next
 * run's batch. Under load, writers contending for one hot row (an org's balance) take it once per batch instead of
 * once each — the batch grows exactly as fast as the row becomes the bottleneck; alone, a call runs at once.
 * `run` gets the key and the items and returns one result per item, in order.
 */
export class SerialBatcher<I, R> {
  private lanes = new Map<string, Queued<I, R>[]>();
  private readonly run: (key: string, items: I[]) => Promise<R[]>;
  private readonly maxBatch: number;

  constructor(run: (key: string, items: I[]) => Promise<R[]>, maxBatch = 500) {
    this.run = run;
    this.maxBatch = maxBatch;
  }

  submit(key: string, item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      const queue = this.lanes.get(key);
      if (queue) queue.push({ item, resolve, reject });
      else {
        const lane = [{ item, resolve, reject }];
        this.lanes.set(key, lane);
        void this.drain(key, lane);
      }
    });
  }

  private async drain(key: string, queue: Queued<I, R>[]): Promise<void> {
    while (queue.length) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const results = await this.run(
          key,
          batch.map((q) => q.item),
        );
        for (const [i, q] of batch.entries()) q.resolve(results[i]);
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
    this.lanes.delete(key);
  }
}

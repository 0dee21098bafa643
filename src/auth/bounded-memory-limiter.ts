import { LRUCache } from 'lru-cache';
import { type IRateLimiterOptions, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

interface Count {
  value: number;
  /** Epoch ms when the window ends; null for a key without expiry. */
  expiresAt: number | null;
}

/**
 * rate-limiter-flexible's MemoryStorage keeps one Map entry (and one timer) per key until its window
 * ends, so a stranger inventing keys grows it without bound. This is the same storage interface over
 * an LRU of at most `maxKeys` keys: when it is full the least recently counted key is forgotten.
 */
class BoundedMemoryStorage {
  private readonly counts: LRUCache<string, Count>;

  constructor(maxKeys: number) {
    this.counts = new LRUCache({ max: maxKeys });
  }

  get size(): number {
    return this.counts.size;
  }

  incrby(key: string, value: number, durationSec: number): RateLimiterRes {
    const count = this.live(key);
    if (!count) return this.set(key, value, durationSec);
    count.value += value;
    return new RateLimiterRes(0, msLeft(count), count.value, false);
  }

  set(key: string, value: number, durationSec: number): RateLimiterRes {
    const durationMs = durationSec * 1000;
    const count = { value, expiresAt: durationMs > 0 ? Date.now() + durationMs : null };
    this.counts.set(key, count);
    return new RateLimiterRes(0, msLeft(count), value, true);
  }

  get(key: string): RateLimiterRes | null {
    const count = this.live(key);
    return count ? new RateLimiterRes(0, msLeft(count), count.value, false) : null;
  }

  delete(key: string): boolean {
    return this.counts.delete(key);
  }

  /** The key's count in its current window; an ended window is dropped here rather than by a timer. */
  private live(key: string): Count | undefined {
    const count = this.counts.get(key);
    if (count?.expiresAt != null && count.expiresAt <= Date.now()) {
      this.counts.delete(key);
      return undefined;
    }
    return count;
  }
}

const msLeft = (count: Count) => (count.expiresAt === null ? -1 : count.expiresAt - Date.now());

/**
 * RateLimiterMemory with at most `maxKeys` keys in memory. Forgetting a key forgives its attempts, so
 * the bound must exceed what one stranger can fill: see LoginThrottle for the figures.
 */
export class BoundedRateLimiterMemory extends RateLimiterMemory {
  private readonly storage: BoundedMemoryStorage;

  constructor(options: IRateLimiterOptions, maxKeys: number) {
    super(options);
    // The storage is an internal field of rate-limiter-flexible: fail loudly if an upgrade renames it,
    // rather than silently counting in an unbounded Map again.
    const internals = this as unknown as { _memoryStorage?: unknown };
    if (typeof internals._memoryStorage !== 'object') {
      throw new Error('rate-limiter-flexible no longer keeps its counts in _memoryStorage');
    }
    this.storage = new BoundedMemoryStorage(maxKeys);
    internals._memoryStorage = this.storage;
  }

  /** How many keys are held now (never more than maxKeys). */
  get size(): number {
    return this.storage.size;
  }
}

import { Redis } from 'ioredis';
import { type Logger } from '../logger.js';
import { RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { BoundedRateLimiterMemory } from './bounded-memory-limiter.js';

/**
 * The figures, each per 15 minutes:
 * - 10 attempts at one account from one client address: a user who mistypes a few times is never
 *   stopped, a guesser gets 10 guesses from each address it has.
 * - 50 attempts at one account from all addresses together: only attempts that passed the bound above
 *   count here, so a guesser must use at least 5 addresses before the real user, from an address of
 *   their own, is refused; and however many addresses it has, an account gets at most 50 guesses
 *   (4,800 a day) before it is throttled for everyone.
 * - 100 attempts from one client address, whatever the accounts: an office behind one NAT logs in,
 *   a password sprayer from one address tries at most 100 accounts.
 */
const WINDOW = 15 * 60;
const ACCOUNT_AT_ADDRESS_LIMIT = { points: 10, duration: WINDOW };
const ACCOUNT_LIMIT = { points: 50, duration: WINDOW };
const ADDRESS_LIMIT = { points: 100, duration: WINDOW };

/**
 * Keys each limiter holds in memory at most (without Redis, or while Redis is unreachable); beyond it
 * the least recently counted key is forgotten. One address fills at most 100 account keys per window
 * (its address bound), so flushing someone's count needs 500 addresses; 50,000 keys of at most ~300
 * characters stay under ~40 MB per limiter.
 */
export const MEMORY_KEYS_PER_LIMITER = 50_000;

/** How long a starting gateway waits for Redis before it serves with the in-memory counters. */
const REDIS_FIRST_CONNECT_MS = 5_000;

export class LoginThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many login attempts; try again in ${retryAfterSeconds} s`);
  }
}

/**
 * Counts login attempts per account at one client address, per account and per client address
 * (rate-limiter-flexible): in memory by default, in Redis when REDIS_URL is set so that every gateway
 * instance shares the counters. If Redis is unreachable the counters fall back to memory rather than
 * letting guesses through. Accounts are the provider's normalised user names (AuthService).
 */
export class LoginThrottle {
  private readonly accountAtAddress: RateLimiterAbstract;
  private readonly account: RateLimiterAbstract;
  private readonly address: RateLimiterAbstract;
  private readonly memory: BoundedRateLimiterMemory[] = [];

  private constructor(
    private readonly redis: Redis | undefined,
    maxMemoryKeys: number,
  ) {
    const limiter = (prefix: string, limit: { points: number; duration: number }) => {
      const memory = new BoundedRateLimiterMemory({ keyPrefix: prefix, ...limit }, maxMemoryKeys);
      this.memory.push(memory);
      return redis
        ? new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: `grantgate:login:${prefix}`,
            ...limit,
            insuranceLimiter: memory,
          })
        : memory;
    };
    this.accountAtAddress = limiter('account-address', ACCOUNT_AT_ADDRESS_LIMIT);
    this.account = limiter('account', ACCOUNT_LIMIT);
    this.address = limiter('address', ADDRESS_LIMIT);
  }

  /**
   * With a Redis URL, waits up to REDIS_FIRST_CONNECT_MS for the first connection: commands are not
   * queued while offline, so a gateway that served before it connected would count its first
   * attempts in memory only, where other instances do not see them.
   */
  static async create(
    redisUrl: string | undefined,
    log: Logger,
    maxMemoryKeys = MEMORY_KEYS_PER_LIMITER,
  ): Promise<LoginThrottle> {
    if (!redisUrl) return new LoginThrottle(undefined, maxMemoryKeys);
    const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    // ioredis reports every failed reconnection; say it once per outage, and when it is over.
    let down = false;
    redis.on('error', (error) => {
      if (!down)
        log.warn({ err: error }, 'Redis unreachable: login throttles count in memory until it is back');
      down = true;
    });
    redis.on('ready', () => {
      if (down) log.info('Redis reachable again: login throttles are shared again');
      down = false;
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REDIS_FIRST_CONNECT_MS);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return new LoginThrottle(redis, maxMemoryKeys);
  }

  /**
   * Counts one attempt at `account` (the provider's normalised user name) from `clientAddress`;
   * throws LoginThrottledError when a bound is reached. Each count is taken only once the attempt
   * passed the bound before it: a guesser already refused at its own address keeps hammering without
   * using up the budget of the real user elsewhere, and an address over its bound adds no keys.
   */
  async attempt(account: string, clientAddress: string): Promise<void> {
    try {
      await this.address.consume(clientAddress);
      await this.accountAtAddress.consume(pairKey(account, clientAddress));
      await this.account.consume(account);
    } catch (error) {
      if (error instanceof RateLimiterRes)
        throw new LoginThrottledError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
      throw error;
    }
  }

  /**
   * A successful login clears the count at that address and gives back its account-wide point (it was
   * no guess); the address's count stays, or a sprayer could reset it with an account of its own.
   */
  async succeeded(account: string, clientAddress: string): Promise<void> {
    await Promise.all([
      this.accountAtAddress.delete(pairKey(account, clientAddress)),
      this.account.reward(account),
    ]);
  }

  /** Keys held in memory by all limiters together (each is bounded by its own LRU). */
  keysInMemory(): number {
    return this.memory.reduce((sum, limiter) => sum + limiter.size, 0);
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}

/** Addresses never contain a space, so the address and the user name cannot run into each other. */
const pairKey = (account: string, clientAddress: string) => `${clientAddress} ${account}`;

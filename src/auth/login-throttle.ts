import { Redis } from 'ioredis';
import { type Logger } from '../logger.js';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/** Per account: a handful of guesses; per client address: enough for an office behind one NAT. */
const ACCOUNT_LIMIT = { points: 10, duration: 15 * 60 };
const ADDRESS_LIMIT = { points: 100, duration: 15 * 60 };

export class LoginThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many login attempts; try again in ${retryAfterSeconds} s`);
  }
}

/**
 * Counts login attempts per account and per client address (rate-limiter-flexible): in memory by
 * default, in Redis when REDIS_URL is set so that every gateway instance shares the counters. If
 * Redis is unreachable the counters fall back to memory rather than letting guesses through.
 */
export class LoginThrottle {
  private readonly account: RateLimiterAbstract;
  private readonly address: RateLimiterAbstract;

  private constructor(private readonly redis: Redis | undefined) {
    const limiter = (prefix: string, limit: { points: number; duration: number }) =>
      redis
        ? new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: `grantgate:login:${prefix}`,
            ...limit,
            insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, ...limit }),
          })
        : new RateLimiterMemory({ keyPrefix: prefix, ...limit });
    this.account = limiter('account', ACCOUNT_LIMIT);
    this.address = limiter('address', ADDRESS_LIMIT);
  }

  static create(redisUrl: string | undefined, log: Logger): LoginThrottle {
    if (!redisUrl) return new LoginThrottle(undefined);
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
    return new LoginThrottle(redis);
  }

  /** Counts one attempt; throws LoginThrottledError when the account or the address is over its limit. */
  async attempt(username: string, clientAddress: string): Promise<void> {
    try {
      await Promise.all([this.account.consume(username.toLowerCase()), this.address.consume(clientAddress)]);
    } catch (error) {
      if (error instanceof RateLimiterRes)
        throw new LoginThrottledError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
      throw error;
    }
  }

  /** A successful login clears the account's count (not the address's). */
  async succeeded(username: string): Promise<void> {
    await this.account.delete(username.toLowerCase());
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}

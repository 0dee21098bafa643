import { pino, type Logger } from 'pino';
import { type Config } from './config.js';

export type { Logger };

/** JSON lines in production (for log shippers), human-readable lines in development. */
export function createLogger(config: Pick<Config, 'nodeEnv' | 'logLevel'>): Logger {
  const pretty = config.nodeEnv === 'development' && process.stdout.isTTY;
  return pino({
    level: config.logLevel,
    base: undefined,
    redact: { paths: ['req.headers.authorization', 'password', '*.password'], censor: '[redacted]' },
    transport: pretty
      ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } }
      : undefined,
  });
}

import { type Level, type Logger, pino } from 'pino';

/** A logger whose lines a test reads back: each JSON line parsed, in the order written. */
export function capturedLog(level: Level): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) }) };
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Rules are named by the intent comment written directly above their declaration in
 * a domain's declare-security.ts, so that what `security:explain`, the console and a denial call a rule
 * is what its author wrote down, and stays put when rules are added around it. The comment is read from
 * the declaring file at the line the call came from (the stack frame just outside this module);
 * source maps (tsx, vitest) make that line the TypeScript source's.
 */

/** Where the declaration call that is running now was written: file and 1-based line. */
export function declarationSite(): { file: string; line: number } | undefined {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  for (const frame of frames) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(frame);
    if (!match) continue;
    const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
    if (/security\/system\/(policy|rule-labels)\.[jt]s$/.test(file)) continue;
    return { file, line: Number(match[2]) };
  }
  return undefined;
}

const sources = new Map<string, string[] | undefined>();

function linesOf(file: string): string[] | undefined {
  if (!sources.has(file)) {
    try {
      sources.set(file, readFileSync(file, 'utf8').split('\n'));
    } catch {
      sources.set(file, undefined);
    }
  }
  return sources.get(file);
}

/** The `//` comment lines directly above `line` of `file`, joined into one sentence; undefined if none. */
export function commentAbove(site: { file: string; line: number } | undefined): string | undefined {
  const lines = site && linesOf(site.file);
  if (!lines) return undefined;
  const comment: string[] = [];
  for (let index = site.line - 2; index >= 0; index--) {
    const text = lines[index]!.trim();
    if (!text.startsWith('//')) break;
    comment.unshift(text.replace(/^\/\/\s?/, '').trim());
  }
  const label = comment.join(' ').trim();
  return label || undefined;
}

/**
 * What the embedded database's crash recovery needs to know about other processes: whether one is
 * alive, what it runs, who its parent is, and when it started (so a recycled pid is not mistaken for
 * the process that once had it). Linux answers from /proc; elsewhere `ps` answers what it can.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parens). */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

async function ps(pid: number, field: 'ppid' | 'args'): Promise<string | undefined> {
  try {
    const { stdout } = await run('ps', ['-o', `${field}=`, '-p', String(pid)]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** True while `pid` runs. A zombie (dead, not yet reaped by its new parent) counts as gone. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return (await procStat(pid))?.[0] !== 'Z';
}

/** The process's start time in clock ticks since boot (Linux), or undefined where unknown. */
export async function startTimeOf(pid: number): Promise<string | undefined> {
  return (await procStat(pid))?.[19];
}

export async function parentOf(pid: number): Promise<number | undefined> {
  const parent = (await procStat(pid))?.[1] ?? (await ps(pid, 'ppid'));
  return parent === undefined ? undefined : Number(parent);
}

/** argv of the process; on systems without /proc, `ps`'s rendering split at spaces. */
export async function commandLineOf(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return (await ps(pid, 'args'))?.split(/\s+/);
  }
}

/** Polls until `pid` is gone; false if it still runs after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

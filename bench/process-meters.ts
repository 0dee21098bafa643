/**
 * What `npm run bench:request-cpu` reads off a gateway process over a burst of requests: its CPU time
 * from the kernel (`cpu`), or the instructions it ran, counted by valgrind's callgrind
 * (`instructions`). CPU time is what a request costs, but on a shared VM the same code's CPU time moves
 * by up to 40 % from one minute to the next; an instruction count does not depend on what else the
 * machine does, at the price of running the gateway ~20× slower and not seeing cache misses or system
 * calls' time in the kernel. What it can tell apart (README, Performance): one gateway's bursts spread
 * by ±5 %, and two gateways of the same code came out within 5 % of each other at the median.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ProcessMeter {
  /** The default burst size: what takes a few seconds at the meter's speed. */
  defaultRequests: number;
  /** Requests sent to each gateway and shape before anything is counted. */
  warmUpRequests: number;
  /** What each burst prints, per request (the last one is the figure compared). */
  columns: string[];
  /** A command line, ending in node and its flags, that runs the gateway in its process. */
  under?: string[];
  /** Called once per gateway after its warm-up, before anything is counted. */
  begin(pid: number): Promise<void>;
  /** Counts what `pid` does while `work` runs: the columns' totals. */
  measure<T>(pid: number, work: () => Promise<T>): Promise<{ totals: number[]; result: T }>;
  close(): void;
}

export function processMeter(name: string): ProcessMeter {
  if (name === 'cpu') return cpuMeter();
  if (name === 'instructions') return instructionMeter();
  throw new Error(`--meter takes cpu or instructions (got "${name}")`);
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (µs) of process `pid` so far: its main thread's, and its other threads' together. */
function threadTimes(pid: number): { main: number; others: number } {
  const times = { main: 0, others: 0 };
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended since the listing
    }
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const micros = ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
    times[Number(thread) === pid ? 'main' : 'others'] += micros;
  }
  return times;
}

/**
 * CPU time from /proc: the main thread's (JavaScript, the event loop's system calls), the other
 * threads' (V8's garbage collector and compiler, libuv), and both.
 */
function cpuMeter(): ProcessMeter {
  return {
    defaultRequests: 5000,
    warmUpRequests: 5000,
    columns: ['main µs', 'other µs', 'all µs'],
    begin: async () => {},
    async measure(pid, work) {
      const before = threadTimes(pid);
      const result = await work();
      const after = threadTimes(pid);
      const main = after.main - before.main;
      const others = after.others - before.others;
      return { totals: [main, others, main + others], result };
    },
    close: () => {},
  };
}

const callgrindControl = (args: string[]) => promisify(execFile)('callgrind_control', args);

/**
 * Instructions (thousands) of every thread of the gateway, counted by callgrind: the gateway starts
 * uninstrumented (its start-up at valgrind's plain speed), is instrumented from `begin`, and each burst
 * zeroes the counts before and dumps them after, read from the dump's `totals:` line.
 */
function instructionMeter(): ProcessMeter {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('--meter instructions runs the gateways under valgrind: apt-get install valgrind');
  }
  const dumps = mkdtempSync(join(tmpdir(), 'grantgate-callgrind-'));
  const dumped = new Map<number, number>();
  return {
    defaultRequests: 500,
    // V8 went on optimizing S1's code for 6000 requests: counts of 1000-request bursts fell from 0.95
    // to 0.85 billion; after 9000, they agree within ~3 %, with one burst in eight ~30 % over.
    warmUpRequests: 9000,
    columns: ['k instr'],
    under: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      // Not counted: the old generation's collection (its incremental marking steps, the final pause,
      // the sweeping after it) and TurboFan's compilation, each of which lands in one burst of several:
      // 1.3 billion instructions for a mark-compact, 0.3 for a burst's recompilations, where a burst of
      // 1000 S1 requests is 0.75. At full speed a gateway ran no mark-compact in 35 000 S1 requests;
      // under valgrind its heap grows further (V8's heuristics are partly timed). Nor the write
      // barrier's out-of-line part, whose slow path every pointer written takes while the old
      // generation is being marked: a gateway caught marking for long stretches counted S3 22 % over
      // another of the same code. The scavenges of the young generation, which follow what a request
      // allocates, are counted.
      '--toggle-collect=v8::internal::IncrementalMarking::Step(*',
      '--toggle-collect=v8::internal::MarkCompactCollector::CollectGarbage(*',
      '--toggle-collect=v8::internal::Sweeper::RawSweep(*',
      '--toggle-collect=Builtins_RecordWrite*',
      '--toggle-collect=v8::internal::Compiler::CompileOptimized(*',
      '--collect-atstart=yes', // after the toggles, which would turn it off
      `--callgrind-out-file=${dumps}/callgrind.%p`,
      process.execPath,
      // V8's garbage collector and compiler on the main thread: on threads of their own, valgrind
      // (which runs one thread at a time) counted their waits for each other, ±15 % between bursts.
      '--single-threaded',
      // The memory reducer collects the old generation when allocation slows down over time: at
      // valgrind's speed, all the time.
      '--no-memory-reducer',
    ],
    async begin(pid) {
      await callgrindControl(['--instr=on', String(pid)]);
    },
    async measure(pid, work) {
      await callgrindControl(['--zero', String(pid)]);
      const result = await work();
      await callgrindControl(['--dump', String(pid)]);
      const dump = (dumped.get(pid) ?? 0) + 1;
      dumped.set(pid, dump);
      const totals = /^totals: (\d+)/m.exec(readFileSync(join(dumps, `callgrind.${pid}.${dump}`), 'utf8'));
      if (!totals) throw new Error(`callgrind's dump ${dump} of ${pid} has no totals`);
      return { totals: [Number(totals[1]) / 1000], result };
    },
    close: () => rmSync(dumps, { recursive: true, force: true }),
  };
}

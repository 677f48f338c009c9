// Small measuring helpers shared by the benchmark's processes: percentiles, a seeded RNG, the
// machine's load, a process's peak RSS, and a timer-lag probe of the event loop.
import * as fs from 'node:fs';
import * as os from 'node:os';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

export const median = (values: readonly number[]) => percentile(values, 0.5);
export const mean = (values: readonly number[]) =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
export const round = (x: number, digits = 1) => (Number.isFinite(x) ? +x.toFixed(digits) : x);

/** mulberry32: a tiny seeded generator, so every engine replays the same keystroke timeline. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Peak resident set (VmHWM) of a process in MB, from /proc; NaN where there is no /proc. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +m[1] / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time of the whole machine, to report how busy it was with other work during a phase. */
function cpuTicks(): { busy: number; total: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** utime + stime of a process in clock ticks (0 when it is gone). */
export function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/**
 * Starts a meter over the machine and the benchmark's own processes; calling the result gives the
 * cores used by the benchmark and by everything else (other work on the machine) meanwhile.
 */
/** CPU time of a process in ms, from /proc (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  return processTicks(pid) * 10;
}

export function loadMeter(pids: number[]): () => { own_cores: number; other_cores: number } {
  const t0 = cpuTicks();
  const p0 = pids.map(processTicks);
  return () => {
    const t1 = cpuTicks();
    const total = t1.total - t0.total;
    const cores = os.cpus().length;
    if (total <= 0) return { own_cores: NaN, other_cores: NaN };
    const own = pids.reduce((n, pid, i) => n + processTicks(pid) - p0[i], 0);
    return {
      own_cores: round((own / total) * cores, 2),
      other_cores: round((Math.max(0, t1.busy - t0.busy - own) / total) * cores, 2),
    };
  };
}

/**
 * Timer-lag probe: a timer due every `periodMs`; the lateness of each firing is how long the event
 * loop could not run it. On a loaded machine that is partly the process waiting for a core, so
 * each late firing is also charged with the CPU time this process used meanwhile: `maxBlock()` is
 * the longest stretch the loop was busy with its own work (min of lateness and CPU time used),
 * `maxLag()` the raw lateness, which includes waiting for a core.
 */
export class LagProbe {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private lastCpu = process.cpuUsage();
  private worstLag = 0;
  private worstBlock = 0;

  constructor(private readonly periodMs = 5) {}

  start(): void {
    this.reset();
    this.timer = setInterval(() => {
      const now = performance.now();
      const cpu = process.cpuUsage(this.lastCpu);
      const lag = now - this.last - this.periodMs;
      const busy = (cpu.user + cpu.system) / 1000;
      this.last = now;
      this.lastCpu = process.cpuUsage();
      this.worstLag = Math.max(this.worstLag, lag);
      this.worstBlock = Math.max(this.worstBlock, Math.min(lag, busy));
    }, this.periodMs);
  }

  reset(): void {
    this.worstLag = 0;
    this.worstBlock = 0;
    this.last = performance.now();
    this.lastCpu = process.cpuUsage();
  }

  maxLag(): number {
    return Math.max(0, this.worstLag);
  }

  maxBlock(): number {
    return Math.max(0, this.worstBlock);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

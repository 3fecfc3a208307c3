/**
 * Where and when the benchmarks ran: machine description, git commit, and how busy the CPUs were
 * with other processes while a benchmark ran (the machine may be shared).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType, arch } from 'node:os';

/** One line per fact, for the report header. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly node: string;
  readonly os: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: (list[0]?.model ?? 'unknown CPU').trim(),
    cores: list.length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `${osType()} ${release()} (${arch()})`,
  };
}

/** `git rev-parse --short HEAD` in `root`, with " + uncommitted changes" when the tree is dirty; undefined without git. */
export function gitCommit(root: string): string | undefined {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain']).length > 0 ? `${head} + uncommitted changes` : head;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc accounting (USER_HZ); 100 on every common Linux. */
const USER_HZ = 100;

interface CpuTicks {
  /** Busy ticks of all CPUs (everything but idle and iowait). */
  readonly busy: number;
  /** This process's ticks plus those of its waited-for children. */
  readonly self: number;
  readonly at: number;
}

function readTicks(): CpuTicks | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime field 14.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const self = (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
    return { busy: user + nice + system + irq + softirq + steal, self, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** Measures, between start and stop, how many CPU cores other processes kept busy on average. */
export class OtherLoadMeter {
  private readonly start = readTicks();

  /** Mean number of cores used by processes other than this one and its children; undefined off Linux. */
  stop(): number | undefined {
    const end = readTicks();
    if (this.start === undefined || end === undefined) return undefined;
    const seconds = (end.at - this.start.at) / 1000;
    if (!(seconds > 0)) return undefined;
    const others = end.busy - this.start.busy - (end.self - this.start.self);
    return Math.max(0, others / USER_HZ / seconds);
  }
}

/** The 1-minute load average now. */
export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}

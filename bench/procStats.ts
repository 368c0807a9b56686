// What the benches read of a child process from /proc (Linux): resident memory and CPU time.
import { readFileSync } from 'node:fs';

/** VmRSS and VmHWM (peak) in bytes, from /proc/<pid>/status. Throws when the process is gone. */
export function readProcMemory(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** User + system CPU time in microseconds, from /proc/<pid>/stat. Throws when the process is gone. */
export function readProcCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which sits in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticks;
}

import { readdirSync, readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { queryRows } from '../src/database/sql';

/** utime + stime of a process (and of its reaped children: cutime + cstime), its parent, in ms (Linux /proc; clock ticks of 10 ms). */
function procStat(pid: number): { ppid: number; ms: number; childrenMs: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * 10, childrenMs: (Number(f[13]) + Number(f[14])) * 10 };
  } catch {
    return null;
  }
}

export interface CpuSnapshot {
  postmaster: number;
  server: Map<number, number>;
  db: Map<number, number>;
}

/**
 * CPU used so far by each process of the server (this process's child running http-server.js) and of
 * the benchmark database: the postmaster counts with its reaped children, so the backends of
 * connections closed in between (pgbench's) count too.
 */
export function cpuNow(postmaster: number): CpuSnapshot {
  const server = new Map<number, number>();
  const pm = procStat(postmaster);
  const db = new Map<number, number>([[postmaster, pm ? pm.ms + pm.childrenMs : 0]]);
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = procStat(pid);
    if (!st) continue;
    if (st.ppid === postmaster) db.set(pid, st.ms);
    else if (st.ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('http-server.js')) server.set(pid, st.ms);
  }
  return { postmaster, server, db };
}

/** CPU ms used between two snapshots by the processes alive at the second (and, for the database, those reaped in between). */
export const cpuSince = (before: Map<number, number>, after: Map<number, number>): number =>
  [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

/** The postmaster of the benchmark's database: the parent of a backend of `db`. */
export async function postmasterOf(db: DataSource): Promise<number> {
  const [{ pid }] = await queryRows<{ pid: number }>(db, 'SELECT pg_backend_pid() AS pid');
  return procStat(pid)?.ppid ?? 0;
}

import { sleep } from './client';
import type { Nodes } from './nodes';
import type { PostgresServer } from './postgres-server';
import type { Profile } from './profiles';

/**
 * The faults of a bank run, spread over the workload at jittered moments: `profile.kills` SIGKILLs of
 * a random node (started again at once), and PostgreSQL stopped and started again once with a fast
 * and once with an immediate shutdown. One fault at a time, each waited for.
 */
export interface Faults {
  kills: number;
  pgRestarts: string[];
}

type Fault = 'kill' | 'fast' | 'immediate';

export async function runNemesis(nodes: Nodes, pg: PostgresServer, profile: Profile, start: number, log: (line: string) => void) {
  const faults: Fault[] = Array.from({ length: profile.kills }, (): Fault => 'kill');
  faults.splice(Math.floor(faults.length / 3), 0, 'fast');
  faults.splice(Math.floor((2 * faults.length) / 3) + 1, 0, 'immediate');
  const done: Faults = { kills: 0, pgRestarts: [] };
  for (const [i, fault] of faults.entries()) {
    const at = start + ((i + 0.6 + Math.random() * 0.8) / (faults.length + 1)) * profile.workloadMs;
    await sleep(Math.max(0, at - Date.now()));
    const t = Date.now();
    if (fault === 'kill') {
      const node = Math.floor(Math.random() * nodes.count);
      await nodes.restart(node);
      done.kills++;
      log(`  +${((t - start) / 1000).toFixed(1)} s: node ${node} SIGKILLed, up again after ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } else {
      await pg.restart(fault);
      done.pgRestarts.push(fault);
      log(
        `  +${((t - start) / 1000).toFixed(1)} s: PostgreSQL stopped (-m ${fault}) and started, ${((Date.now() - t) / 1000).toFixed(1)} s`,
      );
    }
  }
  return done;
}

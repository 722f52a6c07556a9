import type { EventEmitter } from 'node:events';
import type { Pool, PoolClient } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { TestApp } from './test-app';

/**
 * Round trips of the transactions that `work` runs: per pooled connection that wrote `marker`, how
 * many times it sent something and then waited for the server's answers (ReadyForQuery) before sending again.
 */
export async function roundTrips(t: TestApp, marker: string, work: () => Promise<unknown>): Promise<number[]> {
  const pool = (t.dataSource.driver as PostgresDriver).master as Pool;
  const traces = new Map<PoolClient, { events: ('send' | 'ready')[]; marked: boolean }>();
  const undo: (() => void)[] = [];
  const onAcquire = (client: PoolClient) => {
    if (traces.has(client)) return; // acquired again: already traced
    const trace = { events: [] as ('send' | 'ready')[], marked: false };
    traces.set(client, trace);
    const connection = (client as unknown as { connection: EventEmitter & { stream: { write: (...a: unknown[]) => boolean } } }).connection;
    const stream = connection.stream;
    const write = stream.write;
    stream.write = (...args: unknown[]) => {
      if (Buffer.isBuffer(args[0]) && args[0].includes(marker)) trace.marked = true;
      trace.events.push('send');
      return write.apply(stream, args);
    };
    const ready = () => trace.events.push('ready');
    connection.on('readyForQuery', ready);
    undo.push(() => {
      stream.write = write;
      connection.off('readyForQuery', ready);
    });
  };
  pool.on('acquire', onAcquire);
  try {
    await work();
  } finally {
    pool.off('acquire', onAcquire);
    undo.forEach((u) => u());
  }
  return [...traces.values()]
    .filter((tr) => tr.marked)
    .map((tr) => tr.events.filter((e, i) => e === 'send' && tr.events[i + 1] !== 'send').length);
}

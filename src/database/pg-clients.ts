import { Logger } from '@nestjs/common';
import { Client, ClientConfig } from 'pg';
import { pgCode } from './pg-errors';

const logger = new Logger('Database');

/** Errors a connection raised when it broke (pg errors its queries with the same object). */
const connectionLost = new WeakSet<object>();
/** Clients whose connection broke. */
const broken = new WeakSet<object>();

/**
 * The pg Client of every pool the application makes (TypeORM's, `runBeside`'s, pg-boss's: the pools'
 * `Client` option). pg emits 'error' on a client whose connection breaks (PostgreSQL shutting down:
 * 57P01, the socket closed) and the pool listens only while the client is idle; a client checked out
 * then, by a transaction or a query runner, had no listener, and the process exited. This one
 * always listens: it logs, and the pool drops the broken client when it is released.
 */
export class ListeningClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', (err: Error) => {
      connectionLost.add(err);
      broken.add(this);
      logger.warn({ code: pgCode(err) ?? null, message: err.message }, 'a PostgreSQL connection broke; the pool replaces it');
    });
  }

  /**
   * A connection that cannot be opened is the database being unavailable, however it failed: refused
   * (ECONNREFUSED), taken and closed while PostgreSQL stops or starts (pg's "Connection terminated
   * unexpectedly": no SQLSTATE, no `error` event), or refused by the server (57P03, a database that
   * does not allow connections).
   */
  override connect(): Promise<Client>;
  override connect(callback: (err: Error) => void): void;
  override connect(callback?: (err: Error) => void): Promise<Client> | void {
    if (!callback)
      return super.connect().catch((err: Error) => {
        connectionLost.add(err);
        throw err;
      });
    super.connect((err: Error) => {
      if (err) connectionLost.add(err);
      callback(err);
    });
  }
}

/**
 * What a transaction on `client` failed with, counted as the connection's error when the connection
 * broke under it. After the break, TypeORM releases the query runner (its `error` listener), so the
 * transaction's next statement or its COMMIT fails with TypeORM's "already released", or pg's "not
 * queryable": errors without a SQLSTATE, which would otherwise answer 500.
 */
export function failedOn(client: object, err: unknown): unknown {
  if (broken.has(client) && err && typeof err === 'object') connectionLost.add(err);
  return err;
}

/** SQLSTATEs of a server that is shutting down, restarting or not accepting connections yet. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03']);
/** Node's socket errors of a server that cannot be reached. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The database could not be reached or dropped the connection: PostgreSQL's shutdown and startup
 * codes, class 08 (connection exceptions), a socket error, or an error a connection broke with.
 * Decided by codes and by the connection's own report, never by message text.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (connectionLost.has(e) || (e.driverError && typeof e.driverError === 'object' && connectionLost.has(e.driverError))) return true;
  const code = pgCode(err);
  return code !== undefined && (UNAVAILABLE_STATES.has(code) || code.startsWith('08') || UNREACHABLE.has(code));
}

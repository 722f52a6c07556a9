import { createServer, Server } from 'node:net';
import { Pool } from 'pg';
import { toAppError } from '../common/problem.filter';
import { isDatabaseUnavailable, ListeningClient } from './pg-clients';

/** A server that takes each connection and closes it at once, as PostgreSQL does while it shuts down or starts. */
async function closingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('a connection that ends while it is opened', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => ({ server, port } = await closingServer()));
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('is the database being unavailable (503), through a pool as on its own', async () => {
    const pool = new Pool({ host: '127.0.0.1', port, user: 'u', password: 'p', database: 'd', Client: ListeningClient });
    const viaPool = await pool.query('SELECT 1').catch((err: unknown) => err);
    await pool.end();
    const alone = await new ListeningClient({ host: '127.0.0.1', port, user: 'u', password: 'p', database: 'd' })
      .connect()
      .catch((err: unknown) => err);
    for (const err of [viaPool, alone]) {
      expect(err).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(toAppError(err).code).toBe('SERVICE_UNAVAILABLE');
    }
  });
});

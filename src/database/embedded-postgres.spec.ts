import { startOnFreePort } from './embedded-postgres';

describe('startOnFreePort', () => {
  const taken = new Error('postgres exited while starting (exit code 1):\nFATAL:  could not create any TCP/IP sockets');

  it('starts again on another port when the one chosen was taken in between', async () => {
    const tried: number[] = [];
    const started = await startOnFreePort(async (port) => {
      tried.push(port);
      if (tried.length < 3) throw taken;
      return 'server';
    });
    expect(tried).toHaveLength(3);
    expect(started).toEqual({ port: tried[2], server: 'server' });
  });

  it('gives up after its attempts, and at once on any other failure', async () => {
    let calls = 0;
    await expect(startOnFreePort(() => Promise.reject(taken).finally(() => calls++), 2)).rejects.toBe(taken);
    expect(calls).toBe(2);
    const other = new Error('postgres exited while starting (exit code 1):\nFATAL:  data directory has wrong ownership');
    calls = 0;
    await expect(startOnFreePort(() => Promise.reject(other).finally(() => calls++))).rejects.toBe(other);
    expect(calls).toBe(1);
  });
});

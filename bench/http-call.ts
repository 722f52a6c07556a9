import { Agent, request } from 'node:http';

/** One HTTP request to the benchmarked server on 127.0.0.1; `body` a JSON value, or a string sent as it is. */
export function call(
  port: number,
  agent: Agent | undefined,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: object | string,
): Promise<{ status: number; body: string }> {
  const payload = typeof body === 'string' ? body : body ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

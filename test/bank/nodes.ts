import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/database/embedded-postgres';
import { ServerProcess, startServerProcess } from '../support/child-processes';

/**
 * The Bazaar server processes of a bank run, each on its own loopback port against the one database,
 * all with the same `env` (several nodes must share JWT_SECRET and ENCRYPTION_KEY). A node is killed
 * with SIGKILL and started again on its port; one that exits on its own is counted (a crash).
 * With BANK_LOGS=<dir>, every node's output (each boot's, kills included) is appended to
 * <dir>/node-<i>.log, to find what a 5xx was.
 */
export class Nodes {
  private readonly procs: (ServerProcess | undefined)[];
  private readonly exits: string[] = [];
  kills = 0;

  private constructor(
    private readonly ports: number[],
    private readonly env: Record<string, string>,
  ) {
    this.procs = ports.map(() => undefined);
  }

  static async start(count: number, env: Record<string, string>): Promise<Nodes> {
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const nodes = new Nodes(ports, env);
    // The first applies the migrations; the others then start side by side.
    await nodes.boot(0);
    await Promise.all(ports.slice(1).map((_, i) => nodes.boot(i + 1)));
    return nodes;
  }

  get count(): number {
    return this.ports.length;
  }

  url(i: number): string {
    return `http://127.0.0.1:${this.ports[i]}`;
  }

  /** The URLs of the nodes running now (all of them while one is starting: a request there fails and is retried). */
  liveUrls(): string[] {
    const live = this.ports.map((_, i) => i).filter((i) => this.procs[i]);
    return (live.length ? live : this.ports.map((_, i) => i)).map((i) => this.url(i));
  }

  /** A running node's URL, at random. */
  anyUrl(): string {
    const live = this.liveUrls();
    return live[Math.floor(Math.random() * live.length)];
  }

  /** Exits nobody asked for: `node N exited (code)` and its last output. */
  crashes(): string[] {
    return [...this.exits];
  }

  async kill(i: number): Promise<void> {
    const proc = this.procs[i];
    if (!proc) return;
    this.procs[i] = undefined;
    const exited = new Promise((resolve) => proc.child.once('exit', resolve));
    proc.child.kill('SIGKILL');
    await exited;
    this.kills++;
  }

  async restart(i: number): Promise<void> {
    await this.kill(i);
    await this.boot(i);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p, i) => {
        this.procs[i] = undefined;
        await p?.stop();
      }),
    );
  }

  private async boot(i: number): Promise<void> {
    const proc = await startServerProcess({ ...this.env, PORT: String(this.ports[i]) }, 180_000);
    this.procs[i] = proc;
    this.keepLog(i, proc);
    proc.child.once('exit', (code, signal) => {
      if (this.procs[i] !== proc) return;
      this.procs[i] = undefined;
      this.exits.push(`node ${i} exited (${code ?? signal}):\n${proc.output().slice(-4000)}`);
      void this.boot(i).catch((err) => this.exits.push(`node ${i} did not start again: ${(err as Error).message}`));
    });
  }

  private keepLog(i: number, proc: ServerProcess): void {
    const dir = process.env.BANK_LOGS;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `node-${i}.log`);
    appendFileSync(file, `--- node ${i} started ${new Date().toISOString()}\n${proc.output()}`);
    const append = (d: Buffer) => appendFileSync(file, d);
    proc.child.stdout?.on('data', append);
    proc.child.stderr?.on('data', append);
  }
}

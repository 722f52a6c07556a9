import { runBank } from './bank';
import { PROFILES } from './profiles';

describe('bank test (short profile: npm run test:bank -- long for the long one)', () => {
  it('loses nothing and applies nothing twice while nodes are killed and PostgreSQL restarts', async () => {
    const lines: string[] = [];
    const result = await runBank(PROFILES.short, (line) => lines.push(line));
    process.stdout.write(`${lines.join('\n')}\n`);
    expect(result.problems).toEqual([]);
    expect(result.kills).toBe(PROFILES.short.kills);
    expect(result.pgRestarts).toEqual(['fast', 'immediate']);
    expect(result.acknowledged).toBeGreaterThan(0);
  }, 600_000);
});

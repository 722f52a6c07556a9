import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { BusinessClockRepository } from './business-clock.repository';
import { Clock } from './clock.service';

/** A business_clock row whose reads answer only when the test says so. */
class HeldReads extends BusinessClockRepository {
  stored = 0;
  private readonly pending: Array<{ value: number; answer: (n: number) => void }> = [];

  override offsetMs(): Promise<number> {
    return new Promise((answer) => this.pending.push({ value: this.stored, answer }));
  }

  override advance(_db: DataSource, ms: number): Promise<number> {
    this.stored += ms;
    return Promise.resolve(this.stored);
  }

  answerReads(): void {
    for (const r of this.pending.splice(0)) r.answer(r.value);
  }
}

describe('Clock', () => {
  it('keeps an advance that a refresh read before it answers after', async () => {
    const row = new HeldReads();
    const clock = new Clock({} as DataSource, { devRoutes: false } as AppConfig, row);
    const refresh = clock.refresh(); // reads offset 0
    const before = clock.nowMs();
    await clock.advance(3600);
    row.answerReads();
    await refresh;
    expect(clock.nowMs() - before).toBeGreaterThanOrEqual(3600_000);
    await clock.advance(60);
    const second = clock.refresh();
    row.answerReads();
    await second;
    expect(clock.nowMs() - before).toBeGreaterThanOrEqual(3660_000);
  });
});

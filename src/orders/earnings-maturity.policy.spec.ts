import { addDays } from '../common/time';
import { AppConfig, loadConfig } from '../config/app-config';
import { EarningsMaturityPolicy } from './earnings-maturity.policy';
import { FirstSalesService } from './first-sales.service';

const config = (env: Record<string, string> = {}): AppConfig =>
  loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://x/y',
    JWT_SECRET: 'x'.repeat(32),
    ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    ...env,
  });

describe('EarningsMaturityPolicy: when a creator CREDIT share matures', () => {
  const now = new Date('2030-06-01T12:00:00Z');
  const policy = new EarningsMaturityPolicy(config(), {} as FirstSalesService);

  it('matures a new creator share (first sale less than 30 days ago, or this one) after 30 days, an established one after 7', () => {
    expect(policy.maturityDate(now, now)).toEqual(addDays(now, 30));
    expect(policy.maturityDate(addDays(now, -29), now)).toEqual(addDays(now, 30));
    expect(policy.maturityDate(addDays(now, -30), now)).toEqual(addDays(now, 7));
    expect(policy.maturityDate(addDays(now, -400), now)).toEqual(addDays(now, 7));
  });

  it('follows the configured days', () => {
    const custom = new EarningsMaturityPolicy(
      config({ EARNINGS_HOLD_DAYS: '2', NEW_CREATOR_HOLD_DAYS: '10', NEW_CREATOR_PERIOD_DAYS: '5' }),
      {} as FirstSalesService,
    );
    expect(custom.maturityDate(addDays(now, -4), now)).toEqual(addDays(now, 10));
    expect(custom.maturityDate(addDays(now, -5), now)).toEqual(addDays(now, 2));
  });

  it('answers every creator of a batch, recording the first sales in the transaction', async () => {
    const record = jest.fn().mockResolvedValue(new Map([['old', addDays(now, -90)]]));
    const batch = new EarningsMaturityPolicy(config(), { record } as unknown as FirstSalesService);
    const dates = await batch.maturityDates({} as never, ['old', 'new'], now);
    expect(dates).toEqual(
      new Map([
        ['old', addDays(now, 7)],
        ['new', addDays(now, 30)],
      ]),
    );
    expect(record).toHaveBeenCalledWith({}, ['old', 'new'], now);
  });
});

import { AppError } from '../common/errors';
import { loadConfig } from '../config/app-config';
import { IdentityService } from '../identity/identity.service';
import { LedgerService, userAccount } from '../ledger/ledger.service';
import { CreditTransfersRepository } from './credit-transfers.repository';
import { GiftPolicy } from './gift.policy';

const now = new Date('2030-06-01T12:00:00Z');

function policy(delayHours: number, bought: bigint) {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://x/y',
    JWT_SECRET: 'x'.repeat(32),
    ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    GIFT_PURCHASED_CREDITS_DELAY_HOURS: String(delayHours),
  });
  const creditedSince = jest.fn().mockResolvedValue(bought);
  const gifts = new GiftPolicy(
    config,
    {} as IdentityService,
    {} as CreditTransfersRepository,
    { creditedSince } as unknown as LedgerService,
  );
  return { gifts, creditedSince };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: AppError) => ({ code: e.code, detail: e.message, ...e.extra }),
  );

describe('GiftPolicy: credits bought recently stay in the wallet', () => {
  it('lets a gift leave at least the credits bought within the configured delay', async () => {
    const { gifts, creditedSince } = policy(6, 500n);
    await expect(gifts.assertGiftable({} as never, 'u', 1000n, 1500n, now)).resolves.toBeUndefined();
    expect(creditedSince).toHaveBeenCalledWith({}, userAccount('u', 'CREDIT', 'wallet'), 'mint', new Date('2030-06-01T06:00:00Z'));
  });

  it('names the configured delay when it refuses, with what can be gifted', async () => {
    expect(await refusal(policy(6, 500n).gifts.assertGiftable({} as never, 'u', 1001n, 1500n, now))).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      detail: 'Credits bought in the last 6 hours cannot be gifted yet',
      limit: 'recent_purchase',
      giftable: 1000,
    });
    expect(await refusal(policy(1, 2000n).gifts.assertGiftable({} as never, 'u', 100n, 1500n, now))).toMatchObject({
      detail: 'Credits bought in the last 1 hour cannot be gifted yet',
      giftable: 0,
    });
  });

  it('holds nothing back with no delay, even credits minted after the gift read the clock', async () => {
    const { gifts, creditedSince } = policy(0, 1000n);
    await expect(gifts.assertGiftable({} as never, 'u', 1000n, 1000n, now)).resolves.toBeUndefined();
    expect(creditedSince).not.toHaveBeenCalled();
  });

  it('refuses a gift the wallet does not hold first', async () => {
    expect(await refusal(policy(24, 500n).gifts.assertGiftable({} as never, 'u', 1001n, 1000n, now))).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      available: 1000,
    });
  });
});

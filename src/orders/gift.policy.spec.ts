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
  const creditedSince = jest.fn().mockResolvedValue([bought]);
  const gifts = new GiftPolicy(
    config,
    {} as IdentityService,
    {} as CreditTransfersRepository,
    { creditedSince } as unknown as LedgerService,
  );
  return { gifts, creditedSince };
}

const refusal = (e: AppError | undefined) => e && { code: e.code, detail: e.message, ...e.extra };

/** The rule as the route applies it: the recent purchases read, then the wallet's funds judged. */
async function giftable(gifts: GiftPolicy, amount: bigint, wallet: bigint) {
  const [recent] = await gifts.recentlyBought({} as never, ['u'], now);
  return refusal(gifts.giftRefusal(amount, wallet, recent));
}

describe('GiftPolicy: credits bought recently stay in the wallet', () => {
  it('lets a gift leave at least the credits bought within the configured delay', async () => {
    const { gifts, creditedSince } = policy(6, 500n);
    expect(await giftable(gifts, 1000n, 1500n)).toBeUndefined();
    expect(creditedSince).toHaveBeenCalledWith({}, [userAccount('u', 'CREDIT', 'wallet')], 'mint', new Date('2030-06-01T06:00:00Z'));
  });

  it('names the configured delay when it refuses, with what can be gifted', async () => {
    expect(await giftable(policy(6, 500n).gifts, 1001n, 1500n)).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      detail: 'Credits bought in the last 6 hours cannot be gifted yet',
      limit: 'recent_purchase',
      giftable: 1000,
    });
    expect(await giftable(policy(1, 2000n).gifts, 100n, 1500n)).toMatchObject({
      detail: 'Credits bought in the last 1 hour cannot be gifted yet',
      giftable: 0,
    });
  });

  it('holds nothing back with no delay, even credits minted after the gift read the clock', async () => {
    const { gifts, creditedSince } = policy(0, 1000n);
    expect(await giftable(gifts, 1000n, 1000n)).toBeUndefined();
    expect(creditedSince).not.toHaveBeenCalled();
  });

  it('refuses a gift the wallet does not hold first', async () => {
    expect(await giftable(policy(24, 500n).gifts, 1001n, 1000n)).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      available: 1000,
    });
  });
});

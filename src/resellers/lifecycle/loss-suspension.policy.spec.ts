import { loadConfig } from '../../config/app-config';
import { lossSuspensionReason } from './loss-suspension.policy';
import type { Scorecard } from '../scorecard/scorecard.service';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') }).resellers;
const card = (orders: number, disputesLost: number): Scorecard =>
  ({ orders, disputesLost, lossRate: orders ? disputesLost / orders : null, windowDays: 30 }) as Scorecard;

describe('automatic suspension on lost disputes', () => {
  it('is due from the third lost dispute, or a loss rate above 2%', () => {
    expect(lossSuspensionReason(card(0, 0), config)).toBeNull();
    expect(lossSuspensionReason(card(100, 2), config)).toBeNull();
    expect(lossSuspensionReason(card(1000, 3), config)).toBe('3 disputes lost in 30 days');
    expect(lossSuspensionReason(card(40, 1), config)).toBe('1 of 40 orders lost in disputes in 30 days');
    expect(lossSuspensionReason(card(50, 1), config)).toBeNull();
  });
});

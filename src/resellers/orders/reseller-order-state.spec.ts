import { resellerOrderMachine } from './reseller-order-state';
import { ResellerOrders1763900022000 } from '../../../migrations/1763900022000-ResellerOrders';

describe('the reseller order state machine', () => {
  it('is the transition list the database trigger allows', () => {
    const pairs = resellerOrderMachine
      .pairs()
      .map(([a, b]) => `${a}>${b}`)
      .sort();
    expect([...new Set(pairs)]).toEqual([...ResellerOrders1763900022000.TRANSITIONS].sort());
  });

  it('refuses a second confirmation and a dispute of an unpaid order', () => {
    expect(() => resellerOrderMachine.next('confirmed', 'confirm')).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => resellerOrderMachine.next('open', 'dispute')).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(resellerOrderMachine.next('disputed', 'confirm')).toBe('confirmed');
  });
});

import { setTimeout as delay } from 'node:timers/promises';
import { sideBySide } from './side-by-side';

describe('sideBySide', () => {
  it('answers every branch, in order', async () => {
    expect(await sideBySide([delay(10).then(() => 1), 'two', Promise.resolve(3)])).toEqual([1, 'two', 3]);
  });

  it('throws the first failure only once every branch has ended', async () => {
    let ended = false;
    const slow = delay(30).then(() => {
      ended = true;
      return 'late';
    });
    await expect(sideBySide([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))])).rejects.toThrow('first');
    expect(ended).toBe(true);
  });
});

/**
 * Branches of one transaction's work run side by side (their statements pipelined on the transaction's
 * connection), like Promise.all; but a failure is thrown only once every branch has ended, so that no
 * branch still sends a statement after the transaction has been rolled back and its connection released.
 */
export async function sideBySide<T extends readonly unknown[] | []>(branches: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const ended = (await Promise.allSettled(branches)) as PromiseSettledResult<unknown>[];
  const values = ended.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  return values as { -readonly [K in keyof T]: Awaited<T[K]> };
}

import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryRows } from '../src/database/sql';
import { LedgerService, systemAccount, userAccount } from '../src/ledger/ledger.service';

/** Listings through the states the API takes them (the guard trigger checks every step) to published. */
export async function publishListings(db: DataSource, ids: string[], now: Date): Promise<void> {
  await queryRows(
    db,
    `UPDATE listings SET status = 'pending_review', submitted_at = $2, submission_fee_asset = 'CREDIT', submission_fee = 0 WHERE id = ANY ($1::uuid[])`,
    [ids, now],
  );
  await queryRows(db, `UPDATE listings SET status = 'published', published_at = $2 WHERE id = ANY ($1::uuid[])`, [ids, now]);
}

/** `credit` CREDIT minted into each user's wallet, 60 users an entry, pending credits folded in. */
export async function fundWallets(app: INestApplication, users: string[], credit: bigint): Promise<void> {
  const db = app.get(DataSource);
  const ledger = app.get(LedgerService);
  for (let i = 0; i < users.length; i += 60) {
    const group = users.slice(i, i + 60);
    await db.transaction((em) =>
      ledger.post(em, {
        kind: 'bench_funding',
        reference: `bench_funding:${randomUUID()}`,
        postings: [
          { account: systemAccount('issuance', 'CREDIT'), amount: -credit * BigInt(group.length) },
          ...group.map((id) => ({ account: userAccount(id, 'CREDIT', 'wallet'), amount: credit })),
        ],
      }),
    );
  }
  await ledger.foldPendingCredits(); // what the periodic compactor job does in a running server
}

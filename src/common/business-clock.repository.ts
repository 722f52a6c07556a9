import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql';

/** business_clock: the one offset (in ms) every process adds to the machine's time. */
@Injectable()
export class BusinessClockRepository {
  /** The offset, or 0 before the row exists. */
  async offsetMs(db: DataSource): Promise<number> {
    const rows = await queryRows<{ offset_ms: string }>(db, 'SELECT offset_ms FROM business_clock WHERE id = 1');
    return rows.length ? Number(rows[0].offset_ms) : 0;
  }

  /** Moves the offset forward by `ms`; the offset after. */
  async advance(db: DataSource, ms: number): Promise<number> {
    const rows = await queryRows<{ offset_ms: string }>(
      db,
      'UPDATE business_clock SET offset_ms = offset_ms + $1 WHERE id = 1 RETURNING offset_ms',
      [ms],
    );
    return Number(rows[0].offset_ms);
  }
}

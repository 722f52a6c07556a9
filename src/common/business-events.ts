import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { afterCommit } from '../database/after-commit';

const logger = new Logger('Events');

/** Plain JSON values only: amounts as strings (pino cannot write a bigint). */
export type EventFields = Record<string, string | number | boolean | null>;

/**
 * Logs a business event (`purchase.settled`, `order.placed`, ...) at info once its transaction has
 * committed, so that a rolled-back or retried attempt logs nothing; `count` (a metric) runs with it.
 */
export function businessEvent(em: EntityManager, event: string, fields: EventFields, count?: () => void): void {
  afterCommit(em, () => {
    logger.log({ event, ...fields }, event);
    count?.();
  });
}

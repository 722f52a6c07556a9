import { Injectable } from '@nestjs/common';
import { isEmail, isFQDN, isUUID } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { rethrowBadCursor } from '../common/cursors';
import { decodeCursor, Page, pageLimit, toPage } from '../common/pagination';
import { PgError, pgCode } from '../database/pg-errors';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { AddListEntryDto, ListEntriesQuery } from './dto/lists.dto';
import { FraudErrors } from './fraud.errors';
import { ListType } from './fraud.types';
import { ListEntry, ListsRepository } from './lists.repository';

const CIDR = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/;
const VISIBLE_ASCII = /^[\x21-\x7e]{1,100}$/;

/**
 * The typed lists rules read with `in_list`. Values are kept in the form the features carry them
 * (addresses and domains lower-case, ids lower-case, IP addresses and networks as PostgreSQL writes
 * them), so a listed value matches. Removal is soft (removed_at, removed_by); every change is audited.
 */
@Injectable()
export class ListsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly lists: ListsRepository,
    private readonly identity: IdentityService,
    private readonly audit: AuditService,
  ) {}

  /** Newest first; live entries only unless `includeExpired`. */
  async list(type: ListType, q: ListEntriesQuery): Promise<Page<ListEntry>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 2);
    const rows = await this.lists
      .list(this.dataSource, {
        type,
        all: q.includeExpired ?? false,
        now: this.clock.now(),
        before: key ? { createdAt: String(key[0]), id: String(key[1]) } : null,
        limit: limit + 1,
      })
      .catch(rethrowBadCursor);
    return toPage(
      rows,
      limit,
      (r) => r,
      (r) => [r.createdAt.toISOString(), r.id],
    );
  }

  /** 409 when the value is live on the list already. */
  async add(adminId: string, type: ListType, dto: AddListEntryDto): Promise<ListEntry> {
    const now = this.clock.now();
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt && expiresAt <= now) throw FraudErrors.invalidField('expiresAt', 'must be in the future');
    const value = await this.normalise(type, dto.value);
    return this.tx.run(async (em) => {
      const entry = await this.lists.insert(em, {
        id: randomUUID(),
        type,
        value,
        reason: dto.reason,
        expiresAt,
        createdBy: adminId,
        createdAt: now,
      });
      if (!entry) throw FraudErrors.listEntryExists(type, value);
      await this.audit.record(em, {
        actorId: adminId,
        action: 'fraud.list_entry_added',
        subjectType: 'fraud_list_entry',
        subjectId: entry.id,
        reason: dto.reason,
        data: { type, value, expiresAt: expiresAt?.toISOString() ?? null },
      });
      return entry;
    });
  }

  /** Soft-removes an entry that is not removed yet (404 otherwise). */
  async remove(adminId: string, type: ListType, entryId: string): Promise<void> {
    await this.tx.run(async (em) => {
      const entry = await this.lists.remove(em, type, entryId, adminId, this.clock.now());
      if (!entry) throw FraudErrors.listEntryNotFound();
      await this.audit.record(em, {
        actorId: adminId,
        action: 'fraud.list_entry_removed',
        subjectType: 'fraud_list_entry',
        subjectId: entry.id,
        data: { type, value: entry.value },
      });
    });
  }

  private async normalise(type: ListType, raw: string): Promise<string> {
    const invalid = (what: string) => FraudErrors.invalidField('value', `must be ${what} for the ${type} list`);
    switch (type) {
      case 'email': {
        const v = raw.toLowerCase();
        if (!isEmail(v)) throw invalid('an email address');
        return v;
      }
      case 'email_domain': {
        const v = raw.toLowerCase();
        if (!isFQDN(v)) throw invalid('a domain name (example.com)');
        return v;
      }
      case 'ip':
        if (!isIP(raw)) throw invalid('an IP address');
        return this.canonical('inet', raw, invalid('an IP address'));
      case 'ip_cidr': {
        const m = CIDR.exec(raw);
        const family = m ? isIP(m[1]) : 0;
        if (!m || !family || Number(m[2]) > (family === 4 ? 32 : 128)) throw invalid('a network in CIDR notation (10.1.0.0/16)');
        return this.canonical('cidr', raw, invalid('a network address with no bits set after the prefix (10.1.0.0/16)'));
      }
      case 'device':
        if (!isUUID(raw)) throw invalid('a device id (a UUID)');
        return raw.toLowerCase();
      case 'card_fingerprint':
        if (!VISIBLE_ASCII.test(raw)) throw invalid('1-100 visible ASCII characters');
        return raw;
      case 'user': {
        if (!isUUID(raw)) throw invalid('a user id (a UUID)');
        const id = raw.toLowerCase();
        if (!(await this.identity.userExists(undefined, id))) throw FraudErrors.userNotFound();
        return id;
      }
    }
  }

  private async canonical(kind: 'inet' | 'cidr', value: string, invalid: Error): Promise<string> {
    try {
      return await this.lists.canonical(this.dataSource, kind, value);
    } catch (err) {
      if (pgCode(err) === PgError.INVALID_TEXT_REPRESENTATION) throw invalid;
      throw err;
    }
  }
}

import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { decodeCursor, Page, pageLimit, toPage } from '../common/pagination';
import { PgError, pgCode, pgConstraint } from '../database/pg-errors';
import { TransactionRunner } from '../database/transaction-runner';
import { CreateRuleDto, RulesQuery, UpdateRuleDto } from './dto/rules.dto';
import { FraudErrors } from './fraud.errors';
import { validateCondition } from './rule-condition';
import { RulesRepository, RuleVersion } from './rules.repository';
import { RulesService } from './rules.service';

/** The fields an edit may change, as a version stores them. */
const EDITABLE = ['name', 'description', 'eventTypes', 'condition', 'action', 'score', 'mode'] as const;
type Editable = (typeof EDITABLE)[number];

/** A rule as the admin routes show it: its current version, or one version of it (createdBy/createdAt: of that version). */
export function ruleView(v: RuleVersion) {
  return {
    id: v.ruleId,
    version: v.version,
    versionId: v.versionId,
    name: v.name,
    description: v.description,
    eventTypes: v.eventTypes,
    condition: v.condition,
    action: v.action,
    score: v.score,
    mode: v.mode,
    createdBy: v.createdBy,
    createdAt: v.createdAt,
  };
}

/**
 * Rule administration. Versions are append-only: creating a rule writes version 1, every edit
 * (DISABLED included) writes the next version under the rule's row lock, so concurrent edits get
 * consecutive versions and none is lost. Conditions are validated against the feature catalog. The
 * evaluation cache of this process is dropped after each commit (other processes re-read after
 * FRAUD_RULES_CACHE_MS).
 */
@Injectable()
export class RuleAdminService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly repo: RulesRepository,
    private readonly rules: RulesService,
    private readonly audit: AuditService,
  ) {}

  async list(q: RulesQuery): Promise<Page<RuleVersion>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 1);
    const rows = await this.repo.list(this.dataSource, {
      eventType: q.eventType ?? null,
      mode: q.mode ?? null,
      afterName: after ? String(after[0]) : null,
      limit: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (r) => r,
      (r) => [r.name],
    );
  }

  /** The current version and every version, newest first. */
  async get(ruleId: string): Promise<{ current: RuleVersion; versions: RuleVersion[] }> {
    const versions = await this.repo.versions(this.dataSource, ruleId);
    if (!versions.length) throw FraudErrors.ruleNotFound();
    return { current: versions[0], versions };
  }

  async create(adminId: string, dto: CreateRuleDto): Promise<RuleVersion> {
    assertCondition(dto.condition);
    const rule: RuleVersion = {
      versionId: randomUUID(),
      ruleId: randomUUID(),
      version: 1,
      name: dto.name,
      description: dto.description ?? '',
      eventTypes: dto.eventTypes,
      condition: dto.condition,
      action: dto.action,
      score: dto.score,
      mode: dto.mode,
      createdBy: adminId,
      createdAt: this.clock.now(),
    };
    await this.tx.run(async (em) => {
      await nameTaken(rule.name, this.repo.insertRule(em, rule));
      await this.record(em, adminId, 'fraud.rule_created', rule, { rule: ruleView(rule) });
    });
    this.rules.invalidate();
    return rule;
  }

  /** Any subset of the fields; the result is the rule's next version. */
  async edit(adminId: string, ruleId: string, dto: UpdateRuleDto): Promise<RuleVersion> {
    const fields = EDITABLE.filter((f) => dto[f] !== undefined);
    if (!fields.length) throw FraudErrors.nothingToChange();
    if (dto.condition !== undefined) assertCondition(dto.condition);
    const next = await this.tx.run(async (em) => {
      const current = await this.repo.lockCurrent(em, ruleId);
      if (!current) throw FraudErrors.ruleNotFound();
      const version: RuleVersion = {
        ...current,
        ...pick(dto, fields),
        versionId: randomUUID(),
        version: current.version + 1,
        createdBy: adminId,
        createdAt: this.clock.now(),
      };
      await nameTaken(version.name, this.repo.appendVersion(em, version));
      const changes = Object.fromEntries(fields.map((f) => [f, { from: current[f], to: version[f] }]));
      await this.record(em, adminId, 'fraud.rule_changed', version, { changes });
      return version;
    });
    this.rules.invalidate();
    return next;
  }

  private record(em: EntityManager, adminId: string, action: string, v: RuleVersion, data: Record<string, unknown>): Promise<void> {
    return this.audit.record(em, {
      actorId: adminId,
      action,
      subjectType: 'fraud_rule',
      subjectId: v.ruleId,
      data: { version: v.version, versionId: v.versionId, ...data },
    });
  }
}

function assertCondition(condition: unknown): void {
  const problems = validateCondition(condition);
  // jsonb cannot hold U+0000: refused here rather than as a database error.
  if (!problems.length && JSON.stringify(condition).includes('\\u0000')) {
    problems.push({ field: 'condition', message: 'must not contain the NUL character' });
  }
  if (problems.length) throw FraudErrors.invalidRule(problems);
}

/** The unique rule name as a 409. */
async function nameTaken(name: string, write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (pgCode(err) === PgError.UNIQUE_VIOLATION && pgConstraint(err) === 'fraud_rules_name_key') throw FraudErrors.ruleNameTaken(name);
    throw err;
  }
}

function pick(dto: UpdateRuleDto, fields: readonly Editable[]): Partial<RuleVersion> {
  return Object.fromEntries(fields.map((f) => [f, dto[f]]));
}

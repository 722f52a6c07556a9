import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { FraudAction, FraudEventType, RuleMode } from './fraud.types';

export interface RuleVersionRow {
  id: string;
  rule_id: string;
  version: number;
  name: string;
  description: string;
  event_types: FraudEventType[];
  condition: unknown;
  action: FraudAction;
  score: number;
  mode: RuleMode;
  created_by: string | null;
  created_at: Date;
}

export interface RuleVersion {
  versionId: string;
  ruleId: string;
  version: number;
  name: string;
  description: string;
  eventTypes: FraudEventType[];
  condition: unknown;
  action: FraudAction;
  score: number;
  mode: RuleMode;
  createdBy: string | null;
  createdAt: Date;
}

export function toRuleVersion(r: RuleVersionRow): RuleVersion {
  return {
    versionId: r.id,
    ruleId: r.rule_id,
    version: r.version,
    name: r.name,
    description: r.description,
    eventTypes: r.event_types,
    condition: r.condition,
    action: r.action,
    score: r.score,
    mode: r.mode,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

export interface RuleListQuery {
  eventType: FraudEventType | null;
  mode: RuleMode | null;
  /** The name of the last rule of the page before (rules are listed by name). */
  afterName: string | null;
  limit: number;
}

const VERSION_COLUMNS =
  'v.id, v.rule_id, v.version, v.name, v.description, v.event_types, v.condition, v.action, v.score, v.mode, v.created_by, v.created_at';

/** `fraud_rules` (one row per rule, pointing at its current version) and `fraud_rule_versions` (append-only). */
@Injectable()
export class RulesRepository {
  /** The current version of every rule that is not DISABLED. */
  async live(db: EntityManager | DataSource): Promise<RuleVersion[]> {
    const rows = await queryRows<RuleVersionRow>(
      db,
      `SELECT ${VERSION_COLUMNS} FROM fraud_rules r JOIN fraud_rule_versions v ON v.rule_id = r.id AND v.version = r.current_version
        WHERE v.mode <> 'DISABLED' ORDER BY v.name`,
      [],
    );
    return rows.map(toRuleVersion);
  }

  /** The current version of each rule, by name. */
  async list(db: EntityManager | DataSource, q: RuleListQuery): Promise<RuleVersion[]> {
    const rows = await queryRows<RuleVersionRow>(
      db,
      `SELECT ${VERSION_COLUMNS} FROM fraud_rules r JOIN fraud_rule_versions v ON v.rule_id = r.id AND v.version = r.current_version
        WHERE ($1::text IS NULL OR $1 = ANY (v.event_types)) AND ($2::text IS NULL OR v.mode = $2) AND ($3::text IS NULL OR r.name > $3)
        ORDER BY r.name LIMIT $4`,
      [q.eventType, q.mode, q.afterName, q.limit],
    );
    return rows.map(toRuleVersion);
  }

  /** Every version of a rule, newest (the current one) first; [] for an unknown rule. */
  async versions(db: EntityManager | DataSource, ruleId: string): Promise<RuleVersion[]> {
    const rows = await queryRows<RuleVersionRow>(
      db,
      `SELECT ${VERSION_COLUMNS} FROM fraud_rule_versions v WHERE v.rule_id = $1 ORDER BY v.version DESC`,
      [ruleId],
    );
    return rows.map(toRuleVersion);
  }

  async versionsById(db: EntityManager | DataSource, versionIds: string[]): Promise<RuleVersion[]> {
    if (!versionIds.length) return [];
    const rows = await queryRows<RuleVersionRow>(db, `SELECT ${VERSION_COLUMNS} FROM fraud_rule_versions v WHERE v.id = ANY ($1::uuid[])`, [
      versionIds,
    ]);
    return rows.map(toRuleVersion);
  }

  /** Locks the rule (edits of one rule queue here) and answers its current version. */
  async lockCurrent(em: EntityManager, ruleId: string): Promise<RuleVersion | undefined> {
    const [locked] = await queryRows<{ current_version: number }>(em, `SELECT current_version FROM fraud_rules WHERE id = $1 FOR UPDATE`, [
      ruleId,
    ]);
    if (!locked) return undefined;
    // A statement of its own: read after the lock, it sees the version an edit just committed.
    const [row] = await queryRows<RuleVersionRow>(
      em,
      `SELECT ${VERSION_COLUMNS} FROM fraud_rule_versions v WHERE v.rule_id = $1 AND v.version = $2`,
      [ruleId, locked.current_version],
    );
    return toRuleVersion(row);
  }

  /** A new rule and its first version. */
  async insertRule(em: EntityManager, v: RuleVersion): Promise<void> {
    await queryRows(em, `INSERT INTO fraud_rules (id, name, current_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`, [
      v.ruleId,
      v.name,
      v.version,
      v.createdAt,
    ]);
    await this.insertVersion(em, v);
  }

  /** Appends a version to a locked rule and makes it the current one. */
  async appendVersion(em: EntityManager, v: RuleVersion): Promise<void> {
    await queryRows(em, `UPDATE fraud_rules SET name = $2, current_version = $3, updated_at = $4 WHERE id = $1`, [
      v.ruleId,
      v.name,
      v.version,
      v.createdAt,
    ]);
    await this.insertVersion(em, v);
  }

  private async insertVersion(em: EntityManager, v: RuleVersion): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO fraud_rule_versions (id, rule_id, version, name, description, event_types, condition, action, score, mode, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6::text[], $7::jsonb, $8, $9, $10, $11, $12)`,
      [
        v.versionId,
        v.ruleId,
        v.version,
        v.name,
        v.description,
        v.eventTypes,
        JSON.stringify(v.condition),
        v.action,
        v.score,
        v.mode,
        v.createdBy,
        v.createdAt,
      ],
    );
  }
}

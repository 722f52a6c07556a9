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
}

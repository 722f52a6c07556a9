import { LabelRow, SampleRow, ScanRow } from './backtest.repository';
import { FeatureValues, FRAUD_ACTIONS, FraudAction, FraudEventType, LABEL_KINDS, LabelKind } from './fraud.types';

export const SAMPLE_SIZE = 20;

/** Matched, or the message of what the condition threw. */
export type Verdict = boolean | string;

export interface DraftRule {
  eventTypes: FraudEventType[];
  condition: Record<string, unknown>;
  action?: FraudAction;
  score?: number;
}

export interface SampleEvent {
  id: string;
  userId: string | null;
  eventType: FraudEventType;
  createdAt: Date;
  /** How the event was actually decided. */
  outcome: FraudAction;
  /** The stored values of the features the condition reads (a feature the decision lacks is absent). */
  values: FeatureValues;
}

/** The users a selection picks out: the draft rule's matches, or the engine's actual REVIEW/BLOCK decisions. */
export interface SelectionFigures {
  events: number;
  users: number;
  /** Of `users`, those labelled bad after their first selected event. */
  badUsers: number;
  /** `badUsers` by label kind (a user with labels of two kinds counts in both). */
  badUsersByLabel: Record<LabelKind, number>;
  /** badUsers ÷ users (null without users). */
  precision: number | null;
  /** badUsers ÷ the bad users of all scanned events (null without any). */
  recall: number | null;
}

export interface BacktestReport {
  rule: DraftRule;
  days: number;
  from: Date;
  to: Date;
  eventsScanned: number;
  /** Distinct users with scanned events. */
  users: number;
  /** Of `users`, those labelled bad (any label kind) after their first scanned event: recall's denominator. */
  badUsers: number;
  matches: number;
  matchedUsers: number;
  badMatchedUsers: number;
  badMatchedByLabel: Record<LabelKind, number>;
  precision: number | null;
  recall: number | null;
  /** How the matched events were actually decided. */
  matchedOutcomes: Record<FraudAction, number>;
  /** Events on which the condition threw: not matches, as in the engine. */
  errors: { events: number; first: string | null };
  /** How the events were actually decided, and the same figures for the REVIEW and BLOCK decisions. */
  actual: { outcomes: Record<FraudAction, number>; flagged: SelectionFigures };
  /** The newest matched events (up to 20), newest first. */
  sample: SampleEvent[];
  durationMs: number;
}

const counts = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** Sets `times[u]` to `at` when that is earlier (or the first). */
function earliest(times: (string | undefined)[], u: number, at: string): void {
  const t = times[u];
  if (t === undefined || at < t) times[u] = at;
}

/** A time as BacktestRepository writes it ('YYYY-MM-DD HH:MM:SS[.ffffff]+00'), to the millisecond. */
const utcDate = (text: string): Date =>
  new Date(
    text
      .replace(' ', 'T')
      .replace(/(\.\d{3})\d+/, '$1')
      .replace(/\+00$/, 'Z'),
  );

/** A decision's stored values by name (`ScanRow.feature_values`); a feature it lacks (`{}`) is left out. */
export function featuresOf(variables: string[], json: string): FeatureValues {
  const values = JSON.parse(json) as unknown[];
  const f: FeatureValues = {};
  values.forEach((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) f[variables[i]] = v as FeatureValues[string];
  });
  return f;
}

interface Candidate {
  userId: string | null;
  at: string;
  values: string;
}

/**
 * The counts of one backtest. Per user (by index): the first scanned, matched and flagged (REVIEW or
 * BLOCK) event, as time text that sorts as the times do; labels later than those make the user bad in
 * that selection.
 */
export class BacktestTally {
  readonly userIds: string[] = [];
  readonly firstSeen: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly firstMatch: (string | undefined)[] = [];
  private readonly firstFlag: (string | undefined)[] = [];
  private events = 0;
  private matches = 0;
  private readonly outcomes = counts(FRAUD_ACTIONS);
  private readonly matchedOutcomes = counts(FRAUD_ACTIONS);
  private errors = 0;
  private firstError: string | null = null;
  /** The newest matched events seen, newest first (their ids are read once the scan is done). */
  private readonly candidates: Candidate[] = [];
  private readonly badSeen = new Set<number>();
  private readonly badMatched = new Map<LabelKind, Set<number>>(LABEL_KINDS.map((k) => [k, new Set()]));
  private readonly badFlagged = new Map<LabelKind, Set<number>>(LABEL_KINDS.map((k) => [k, new Set()]));

  constructor(private readonly variables: string[]) {}

  add(r: ScanRow, verdict: Verdict): void {
    const at = r.at;
    this.events++;
    this.outcomes[r.outcome]++;
    const u = r.user_id === null ? -1 : this.user(r.user_id, at);
    if (u >= 0 && r.outcome !== 'ALLOW') earliest(this.firstFlag, u, at);
    if (verdict === false) return;
    if (verdict !== true) {
      this.errors++;
      this.firstError ??= verdict;
      return;
    }
    this.matches++;
    this.matchedOutcomes[r.outcome]++;
    if (u >= 0) earliest(this.firstMatch, u, at);
    this.offer({ userId: r.user_id, at, values: r.feature_values });
  }

  /** The (user, time) of the sample candidates, to read their decisions by. */
  sampleKeys(): { userId: string | null; at: string }[] {
    return this.candidates.map(({ userId, at }) => ({ userId, at }));
  }

  /**
   * The sample from the decisions at the candidates' (user, time): those with a candidate's values
   * matched (several decisions of one user at one time are one batch), newest first.
   */
  sample(rows: SampleRow[]): SampleEvent[] {
    const matched = new Set(this.candidates.map((c) => `${c.userId}|${c.at}|${c.values}`));
    return rows
      .filter((r) => matched.has(`${r.user_id}|${r.at}|${r.feature_values}`))
      .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .slice(0, SAMPLE_SIZE)
      .map((r) => ({
        id: r.id,
        userId: r.user_id,
        eventType: r.event_type,
        createdAt: utcDate(r.at),
        outcome: r.outcome,
        values: featuresOf(this.variables, r.feature_values),
      }));
  }

  /** Records the labels each user received after their first scanned event (`labelsAfter(firstSeen)`). */
  label(labels: LabelRow[]): void {
    for (const l of labels) {
      const u = this.index.get(l.user_id)!;
      const [match, flag] = [this.firstMatch[u], this.firstFlag[u]];
      this.badSeen.add(u);
      if (match !== undefined && match < l.at) this.badMatched.get(l.kind)!.add(u);
      if (flag !== undefined && flag < l.at) this.badFlagged.get(l.kind)!.add(u);
    }
  }

  report(): Omit<BacktestReport, 'rule' | 'days' | 'from' | 'to' | 'sample' | 'durationMs'> {
    const matched = this.figures(this.firstMatch, this.badMatched, this.matches);
    return {
      eventsScanned: this.events,
      users: this.userIds.length,
      badUsers: this.badSeen.size,
      matches: this.matches,
      matchedUsers: matched.users,
      badMatchedUsers: matched.badUsers,
      badMatchedByLabel: matched.badUsersByLabel,
      precision: matched.precision,
      recall: matched.recall,
      matchedOutcomes: this.matchedOutcomes,
      errors: { events: this.errors, first: this.firstError },
      actual: {
        outcomes: this.outcomes,
        flagged: this.figures(this.firstFlag, this.badFlagged, this.outcomes.REVIEW + this.outcomes.BLOCK),
      },
    };
  }

  private user(id: string, at: string): number {
    let u = this.index.get(id);
    if (u === undefined) {
      u = this.userIds.push(id) - 1;
      this.index.set(id, u);
      this.firstSeen.push(at);
      this.firstMatch.push(undefined);
      this.firstFlag.push(undefined);
    } else if (at < this.firstSeen[u]) this.firstSeen[u] = at;
    return u;
  }

  /** Keeps the SAMPLE_SIZE newest candidates (scan order breaks ties). */
  private offer(c: Candidate): void {
    const list = this.candidates;
    if (list.length === SAMPLE_SIZE && c.at <= list[list.length - 1].at) return;
    let i = list.length;
    while (i > 0 && c.at > list[i - 1].at) i--;
    list.splice(i, 0, c);
    if (list.length > SAMPLE_SIZE) list.pop();
  }

  private figures(first: (string | undefined)[], bad: Map<LabelKind, Set<number>>, events: number): SelectionFigures {
    const users = first.filter((t) => t !== undefined).length;
    const badUsers = new Set([...bad.values()].flatMap((s) => [...s])).size;
    const badUsersByLabel = counts(LABEL_KINDS);
    for (const [k, s] of bad) badUsersByLabel[k] = s.size;
    return {
      events,
      users,
      badUsers,
      badUsersByLabel,
      precision: users ? badUsers / users : null,
      recall: this.badSeen.size ? badUsers / this.badSeen.size : null,
    };
  }
}

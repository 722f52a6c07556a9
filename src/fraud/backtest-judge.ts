import { featuresOf, Verdict } from './backtest-tally';
import { ScanRow } from './backtest.repository';
import { FeatureValues } from './fraud.types';
import { ListProbe } from './lists.repository';
import { conditionHolds, conditionVariables, listProbes, membershipKey, ruleData } from './rule-condition';

export interface MemoOptions {
  /** Verdicts remembered by the values judged (about 150 bytes each); past this the memory starts afresh. */
  max: number;
  /** After this many events, remembering stops unless at least `minHits` of them had been judged before. */
  trial: number;
  minHits: number;
}

const MEMO: MemoOptions = { max: 300_000, trial: 100_000, minHits: 0.1 };

/** The list entries among these probes (ListsRepository.members, against the lists as they are now). */
export type ListLookup = (probes: ListProbe[]) => Promise<ListProbe[]>;

type Node = Record<string, unknown>;
type RuleData = ReturnType<typeof ruleData>;
const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The `in_list` operations of a condition that are not inside another one's value. */
function outerLists(node: unknown, found: Node[] = []): Node[] {
  if (Array.isArray(node)) node.forEach((n) => outerLists(n, found));
  else if (isNode(node)) {
    for (const [op, args] of Object.entries(node)) {
      if (op === 'in_list') found.push(node);
      else outerLists(args, found);
    }
  }
  return found;
}

/**
 * List membership as `in_list` consults it (`has(membershipKey(type, value))`): the entries found so
 * far, and a note of each value asked about that has not been looked up yet (answered "not listed"
 * until it is, and the question marked so that its verdict is taken again).
 */
class Membership extends Set<string> {
  /** Values looked up: whether listed. */
  readonly looked = new Map<string, boolean>();
  readonly unknown = new Set<string>();
  /** Whether the current verdict asked about a value not looked up yet. */
  asked = false;

  override has(key: string): boolean {
    const listed = this.looked.get(key);
    if (listed !== undefined) return listed;
    this.unknown.add(key);
    this.asked = true;
    return false;
  }
}

/** `membershipKey` read back: list values never hold U+0000 (PostgreSQL text cannot). */
function probeOf(key: string): ListProbe {
  const cut = key.indexOf('\u0000');
  return { type: key.slice(0, cut), value: key.slice(cut + 1) };
}

/**
 * Judges stored decisions as the engine judges a rule (fraud.service.ts): `conditionHolds` over
 * `ruleData` of the stored values, with the membership of the list values the condition looks up; a
 * condition that throws does not match. A verdict depends only on the values the condition reads
 * (membership is looked up by those values), so while values repeat each distinct set is judged once.
 *
 * Membership: when no list value is computed from another membership (the usual case), the values
 * `in_list` asks about are those `listProbes` would find, so each verdict is taken against the
 * entries found so far; a verdict that asked about a value not looked up yet is taken again once the
 * page's new values have been looked up in one statement. Otherwise (nested lists), as in the
 * engine, each event's probes are found without membership and it is judged with theirs only.
 */
export class BacktestJudge {
  readonly variables: string[];
  private readonly lists: Node[];
  private readonly nested: boolean;
  private readonly membership = new Membership();
  /** Verdicts by `feature_values`; null when values do not repeat enough to pay for it. */
  private memo: Map<string, Verdict> | null = new Map();
  private memoRows = 0;
  private memoHits = 0;

  constructor(
    private readonly condition: Record<string, unknown>,
    private readonly memoOptions: MemoOptions = MEMO,
  ) {
    this.variables = conditionVariables(condition);
    this.lists = outerLists(condition);
    this.nested = this.lists.some((l) => outerLists((l.in_list as unknown[])[1]).length > 0);
  }

  /** The verdict on each row of the page. */
  async page(page: ScanRow[], lookup: ListLookup): Promise<Verdict[]> {
    const memo = this.memo;
    if (!memo)
      return this.judge(
        page.map((r) => r.feature_values),
        lookup,
      );
    if (memo.size > this.memoOptions.max) memo.clear();
    const verdicts = new Array<Verdict | undefined>(page.length);
    const todo = new Map<string, number>();
    const values: string[] = [];
    page.forEach((r, i) => {
      const known = memo.get(r.feature_values);
      if (known !== undefined) verdicts[i] = known;
      else if (!todo.has(r.feature_values)) todo.set(r.feature_values, values.push(r.feature_values) - 1);
    });
    const judged = await this.judge(values, lookup);
    for (const [v, j] of todo) memo.set(v, judged[j]);
    this.memoRows += page.length;
    this.memoHits += page.length - values.length;
    const { trial, minHits } = this.memoOptions;
    if (this.memoRows >= trial && this.memoHits < minHits * this.memoRows) this.memo = null;
    return page.map((r, i) => verdicts[i] ?? judged[todo.get(r.feature_values)!]);
  }

  /**
   * The verdicts on these `feature_values`. Each event's objects are made as it is judged: a page's
   * worth made at once would outlive the young generation.
   */
  private async judge(values: string[], lookup: ListLookup): Promise<Verdict[]> {
    if (!this.lists.length) return values.map((v) => this.verdict(ruleData(this.features(v))));
    if (this.nested) return this.judgeNested(values, lookup);
    const m = this.membership;
    const verdicts = new Array<Verdict>(values.length);
    let again = values.map((_, j) => j);
    while (again.length) {
      const next: number[] = [];
      for (const j of again) {
        m.asked = false;
        verdicts[j] = this.verdict(ruleData(this.features(values[j]), m));
        if (m.asked) next.push(j);
      }
      if (next.length) await this.lookUp([...m.unknown].map(probeOf), lookup);
      again = next;
    }
    return verdicts;
  }

  private async judgeNested(values: string[], lookup: ListLookup): Promise<Verdict[]> {
    const probes = values.map((v) => {
      try {
        return listProbes(this.lists, ruleData(this.features(v)));
      } catch {
        return []; // the condition throws again when judged, and counts then
      }
    });
    await this.lookUp(probes.flat(), lookup);
    return values.map((v, j) => {
      const own = probes[j].map((p) => membershipKey(p.type, p.value)).filter((k) => this.membership.looked.get(k));
      return this.verdict(ruleData(this.features(v), new Set(own)));
    });
  }

  private features(values: string): FeatureValues {
    return featuresOf(this.variables, values);
  }

  /** Looks up, in one statement, the values not looked up before. */
  private async lookUp(probes: ListProbe[], lookup: ListLookup): Promise<void> {
    const m = this.membership;
    const fresh = new Map<string, ListProbe>();
    for (const p of probes) {
      const key = membershipKey(p.type, p.value);
      if (!m.looked.has(key)) fresh.set(key, p);
    }
    if (!fresh.size) return;
    const listed = new Set((await lookup([...fresh.values()])).map((e) => membershipKey(e.type, e.value)));
    for (const key of fresh.keys()) {
      m.looked.set(key, listed.has(key));
      m.unknown.delete(key);
    }
  }

  private verdict(data: RuleData): Verdict {
    try {
      return conditionHolds(this.condition, data);
    } catch (err) {
      return (err instanceof Error ? err.message : String(err)).slice(0, 500);
    }
  }
}

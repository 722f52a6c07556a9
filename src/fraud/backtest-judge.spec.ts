import { BacktestJudge } from './backtest-judge';
import { featuresOf, Verdict } from './backtest-tally';
import { ScanRow } from './backtest.repository';
import { ListProbe } from './lists.repository';
import { conditionHolds, conditionVariables, listProbes, membershipKey, ruleData } from './rule-condition';

const LISTED = new Set(['ip\u000010.0.0.7', 'ip_cidr\u000010.0.0.9', 'user\u0000u3', 'ip\u0000none']);

/** The list entries among the probes, counting the statements and the values looked up. */
function lists() {
  const calls: number[] = [];
  const lookup = async (probes: ListProbe[]) => {
    calls.push(probes.length);
    return probes.filter((p) => LISTED.has(membershipKey(p.type, p.value)));
  };
  return { lookup, calls };
}

/** What the engine does with one event (fraud.service.ts): probe, look up, judge with those members. */
function engine(condition: Record<string, unknown>, values: string): Verdict {
  const features = featuresOf(conditionVariables(condition), values);
  const members = new Set(
    listProbes(condition, ruleData(features))
      .map((p) => membershipKey(p.type, p.value))
      .filter((k) => LISTED.has(k)),
  );
  return conditionHolds(condition, ruleData(features, members));
}

/** Pages of events: `unique` makes every event's values distinct (so that remembering stops). */
function pages(condition: Record<string, unknown>, n: number, unique: boolean, size = 1_000): ScanRow[][] {
  const variables = conditionVariables(condition);
  const value = (name: string, i: number): unknown => {
    if (name === 'ip.address') return i % 11 === 0 ? null : `10.0.${unique ? Math.floor(i / 13) % 200 : 0}.${i % 13}`;
    if (name === 'user.id') return `u${i % (unique ? 5000 : 5)}`;
    if (name === 'user.ageDays') return unique ? i / 1000 : i % 40;
    return i % 9;
  };
  const rows = Array.from({ length: n }, (_, i) => ({
    user_id: `u${i % 5}`,
    outcome: 'ALLOW' as const,
    at: '2026-01-01 00:00:00+00',
    // every 17th event was decided before the feature existed: no value at all
    feature_values: JSON.stringify(variables.map((v, k) => (k === 0 && i % 17 === 0 ? {} : value(v, i)))),
  }));
  return Array.from({ length: Math.ceil(n / size) }, (_, p) => rows.slice(p * size, (p + 1) * size));
}

const SMALL = { max: 3_000, trial: 2_000, minHits: 0.1 };

async function judgeAll(condition: Record<string, unknown>, n: number, unique: boolean, memo = SMALL) {
  const judge = new BacktestJudge(condition, memo);
  const { lookup, calls } = lists();
  let mismatches = 0;
  let matches = 0;
  for (const page of pages(condition, n, unique)) {
    const verdicts = await judge.page(page, lookup);
    page.forEach((r, i) => {
      if (verdicts[i] !== engine(condition, r.feature_values)) mismatches++;
      if (verdicts[i] === true) matches++;
    });
  }
  return { mismatches, matches, calls };
}

describe('BacktestJudge: the engine verdict on every stored event', () => {
  const flat = {
    or: [
      { in_list: ['ip', { var: 'ip.address' }] },
      { and: [{ in_list: ['ip_cidr', { var: 'ip.address' }] }, { '<': [{ var: 'user.ageDays' }, 30] }] },
    ],
  };
  // the value looked up depends on another membership: the engine probes without membership
  const nested = { in_list: ['ip', { if: [{ in_list: ['user', { var: 'user.id' }] }, { var: 'ip.address' }, 'none'] }] };
  const plain = { and: [{ '<': [{ var: 'user.ageDays' }, 20] }, { '!==': [{ var: 'ip.address' }, null] }] };

  it.each([
    ['no lists, repeated values', plain, false],
    ['no lists, every value new (remembering stops)', plain, true],
    ['lists, repeated values', flat, false],
    ['lists, every value new', flat, true],
    ['nested lists, repeated values', nested, false],
    ['nested lists, every value new', nested, true],
  ])('%s', async (_, condition, unique) => {
    const { mismatches, matches } = await judgeAll(condition, 8_000, unique);
    expect(mismatches).toBe(0);
    expect(matches).toBeGreaterThan(0);
  });

  it('forgets and remembers again when the memory is full', async () => {
    const { mismatches } = await judgeAll(flat, 8_000, true, { max: 1_500, trial: Infinity, minHits: 0 });
    expect(mismatches).toBe(0);
  });

  it('looks each list value up once, in one statement for the page that first asks', async () => {
    const { calls } = await judgeAll(flat, 5_000, false);
    // 13 addresses, two list types, all asked about on the first page
    expect(calls).toEqual([26]);
  });

  it('keeps the distinction between a feature with no value and a null one', async () => {
    const condition = { '==': [{ var: ['ip.address', 'default'] }, 'default'] };
    const { mismatches, matches } = await judgeAll(condition, 1_000, false);
    expect(mismatches).toBe(0);
    expect(matches).toBe(Math.ceil(1_000 / 17)); // only the events without the feature
  });
});

import { decide } from './decision.policy';
import { RuleResult } from './fraud.types';

const rule = (over: Partial<RuleResult>): RuleResult => ({
  ruleId: 'r',
  versionId: 'v',
  version: 1,
  name: 'r',
  mode: 'ACTIVE',
  action: 'ALLOW',
  score: 0,
  matched: true,
  ...over,
});
const t = { reviewScore: 50, blockScore: 80 };

describe('decide', () => {
  it('lets BLOCK beat REVIEW beat ALLOW among matching active rules', () => {
    expect(decide([rule({ action: 'REVIEW' }), rule({ action: 'BLOCK' })], t).outcome).toBe('BLOCK');
    expect(decide([rule({ action: 'ALLOW' }), rule({ action: 'REVIEW' })], t).outcome).toBe('REVIEW');
    expect(decide([rule({ action: 'ALLOW' })], t).outcome).toBe('ALLOW');
  });

  it('maps the summed score to review at 50 and block at 80', () => {
    expect(decide([rule({ score: 30 }), rule({ score: 19 })], t)).toEqual({ outcome: 'ALLOW', score: 49 });
    expect(decide([rule({ score: 30 }), rule({ score: 20 })], t)).toEqual({ outcome: 'REVIEW', score: 50 });
    expect(decide([rule({ score: 40 }), rule({ score: 39 })], t).outcome).toBe('REVIEW');
    expect(decide([rule({ score: 40 }), rule({ score: 40 })], t)).toEqual({ outcome: 'BLOCK', score: 80 });
  });

  it('never enforces shadow rules, rules that did not match, or rules that threw', () => {
    const results = [
      rule({ mode: 'SHADOW', action: 'BLOCK', score: 100 }),
      rule({ matched: false, action: 'BLOCK', score: 100 }),
      rule({ matched: false, error: 'boom', action: 'BLOCK', score: 100 }),
    ];
    expect(decide(results, t)).toEqual({ outcome: 'ALLOW', score: 0 });
  });
});

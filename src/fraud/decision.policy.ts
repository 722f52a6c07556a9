import { FraudAction, RuleResult } from './fraud.types';

export interface DecisionThresholds {
  reviewScore: number;
  blockScore: number;
}

/**
 * The outcome of an event from its rule results: only ACTIVE rules that matched count (SHADOW ones
 * are recorded, never enforced; a rule that threw never matches). BLOCK beats REVIEW beats ALLOW, and
 * the summed score of the matching rules also maps to REVIEW (≥ reviewScore) and BLOCK (≥ blockScore).
 */
export function decide(results: RuleResult[], t: DecisionThresholds): { outcome: FraudAction; score: number } {
  const counted = results.filter((r) => r.matched && r.mode === 'ACTIVE');
  const score = counted.reduce((sum, r) => sum + r.score, 0);
  const has = (a: FraudAction) => counted.some((r) => r.action === a);
  if (has('BLOCK') || score >= t.blockScore) return { outcome: 'BLOCK', score };
  if (has('REVIEW') || score >= t.reviewScore) return { outcome: 'REVIEW', score };
  return { outcome: 'ALLOW', score };
}

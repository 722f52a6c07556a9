/** What the fraud engine evaluates (API.md "Fraud rule conditions"). */
export const FRAUD_EVENT_TYPES = [
  'signup',
  'login',
  'token_purchase',
  'payment_succeeded',
  'item_purchase',
  'credit_transfer',
  'reseller_application',
  'wholesale_purchase',
  'reseller_order_open',
  'reseller_order_confirm',
] as const;
export type FraudEventType = (typeof FRAUD_EVENT_TYPES)[number];

export const FRAUD_ACTIONS = ['ALLOW', 'REVIEW', 'BLOCK'] as const;
export type FraudAction = (typeof FRAUD_ACTIONS)[number];

export const RULE_MODES = ['ACTIVE', 'SHADOW', 'DISABLED'] as const;
export type RuleMode = (typeof RULE_MODES)[number];

export const LIST_TYPES = ['email', 'email_domain', 'ip', 'ip_cidr', 'device', 'card_fingerprint', 'user'] as const;
export type ListType = (typeof LIST_TYPES)[number];

export const LABEL_KINDS = ['chargeback', 'dispute_lost', 'confirmed_takeover', 'confirmed_fraud'] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];

/**
 * One event to decide, as its caller knows it. Everything else a rule can read (the feature catalog,
 * feature-catalog.ts) is computed from PostgreSQL inside the caller's transaction.
 */
export interface FraudEvent {
  type: FraudEventType;
  /** The acting user; for `signup`, the account being created. */
  userId: string;
  /** What the decision is about (order, transfer, purchase, user id); a review is opened on it. */
  subjectId: string;
  /** Credits moved or bought (token packages: the credits of the package). */
  amount?: bigint;
  /** Money, for payments. */
  amountCents?: bigint;
  currency?: string;
  ip?: string;
  /** ISO 3166 alpha-2 of the IP address, when the edge in front of the server reports it. */
  ipCountry?: string | null;
  /** The session of the request (its device is the session's device). */
  sessionId?: string;
  /** A login: the device token it presented, and the account guard's verdict on its novelty. */
  login?: { deviceIsNew: boolean; networkIsNew: boolean; deviceId?: string | null };
  /** Signup: the address being registered. */
  email?: string;
  /** Gifts and transfers: who receives. */
  recipientId?: string;
  /**
   * An event with no request of its own (a webhook): the client address, country and device are those
   * recorded on the decision of this type about the same subject (payment_succeeded ← token_purchase).
   */
  followsFrom?: FraudEventType;
  /** Payments, as Stripe reported them. */
  card?: { fingerprint: string | null; country: string | null };
  riskScore?: number | null;
}

/** The features of one event: dotted names (feature-catalog.ts) → values. */
export type FeatureValues = Record<string, string | number | boolean | string[] | null>;

/** How one rule version judged the event. */
export interface RuleResult {
  ruleId: string;
  versionId: string;
  version: number;
  name: string;
  mode: RuleMode;
  action: FraudAction;
  score: number;
  matched: boolean;
  /** The rule threw: recorded, counted, never decisive. */
  error?: string;
}

export interface FraudDecision {
  id: string;
  eventType: FraudEventType;
  userId: string;
  subjectId: string;
  outcome: FraudAction;
  score: number;
  features: FeatureValues;
  rules: RuleResult[];
  createdAt: Date;
}

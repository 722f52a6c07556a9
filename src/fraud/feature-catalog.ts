/**
 * Every feature a rule condition may name (`{"var": "user.ageDays"}`), with its meaning. The rule
 * validator refuses any other name; docs/fraud.md's table is written from this list (and checked
 * against it by feature-catalog.spec.ts). Velocity counts include the event being decided and read the
 * stored decisions, so every evaluated attempt counts, blocked ones too: `user.*` counts and sums
 * events of the type being decided, `ip.*`, `device.*` and `card.*` counts events of any type.
 */
export type FeatureType = 'number' | 'boolean' | 'string' | 'string[]';

export interface FeatureSpec {
  name: string;
  type: FeatureType;
  meaning: string;
  /** Null when the event has no such value (e.g. `card.*` outside payments). */
  nullable?: boolean;
  /** The span of history the value reads (e.g. `24 h`, `ever`); none: the event or the account as it is now. */
  window?: string;
}

const WINDOWS = { '1h': '1 h', '24h': '24 h', '7d': '7 d' } as const;

const velocity = (subject: 'user' | 'ip' | 'device' | 'card', what: string): FeatureSpec[] =>
  (['1h', '24h', '7d'] as const).flatMap((w) => [
    {
      name: `${subject}.events${w}`,
      type: 'number' as const,
      meaning: `${subject === 'user' ? 'events of this type' : 'events of any type'} ${what} in the last ${WINDOWS[w]}, this one included`,
      nullable: subject !== 'user',
      window: WINDOWS[w],
    },
    ...(subject === 'user'
      ? [
          {
            name: `user.amount${w}`,
            type: 'number' as const,
            meaning: `sum of event.amount over those events (this one included)`,
            window: WINDOWS[w],
          },
        ]
      : []),
  ]);

export const FEATURE_CATALOG: readonly FeatureSpec[] = [
  { name: 'event.type', type: 'string', meaning: 'the event type (signup, login, token_purchase, ...)' },
  { name: 'event.amount', type: 'number', meaning: 'credits moved or bought by the event', nullable: true },
  { name: 'event.amountCents', type: 'number', meaning: 'money paid, in cents (payments)', nullable: true },
  { name: 'event.currency', type: 'string', meaning: 'ISO currency of the money paid (payments)', nullable: true },
  {
    name: 'event.amountToMedian',
    type: 'number',
    meaning: "event.amount ÷ the median amount of the user's earlier events of this type in the last 30 days (null without such history)",
    nullable: true,
    window: '30 d',
  },
  { name: 'user.id', type: 'string', meaning: 'the acting user' },
  { name: 'user.email', type: 'string', meaning: "the user's email address (lower case)", nullable: true },
  { name: 'user.emailDomain', type: 'string', meaning: 'the domain part of user.email', nullable: true },
  { name: 'user.ageDays', type: 'number', meaning: 'days since the account was created (fractional; 0 at sign-up)' },
  { name: 'user.emailVerified', type: 'boolean', meaning: 'the email address has been verified' },
  { name: 'user.twoFactorEnabled', type: 'boolean', meaning: 'TOTP is enrolled and confirmed' },
  { name: 'user.roles', type: 'string[]', meaning: 'roles held (buyer, creator, reseller, admin); test with "in"' },
  { name: 'user.chargebacks', type: 'number', meaning: 'chargebacks (disputes opened) on the user’s payments, ever', window: 'ever' },
  { name: 'user.disputesLost', type: 'number', meaning: 'disputes the platform lost on the user’s payments, ever', window: 'ever' },
  {
    name: 'user.confirmedBad',
    type: 'boolean',
    meaning: 'an admin labelled the account confirmed_takeover or confirmed_fraud',
    window: 'ever',
  },
  { name: 'user.blocks90d', type: 'number', meaning: 'BLOCK decisions on the user (any event type) in the last 90 days', window: '90 d' },
  {
    name: 'user.minutesSincePasswordReset',
    type: 'number',
    meaning: 'minutes since the last password reset (null if never)',
    nullable: true,
    window: 'ever',
  },
  ...velocity('user', 'by this user'),
  {
    name: 'user.cards24h',
    type: 'number',
    meaning: 'distinct card fingerprints on the user’s payments in the last 24 h, this one included',
    window: '24 h',
  },
  {
    name: 'device.id',
    type: 'string',
    meaning:
      "the device of the request's session (or the one a login presented): its cluster, so one browser signed in to several accounts is one device",
    nullable: true,
  },
  {
    name: 'device.isNew',
    type: 'boolean',
    meaning:
      'login: the account has not used this device before (its first device is never new); other events: the session’s device was first used by the account in the last 24 h and is not its first',
    window: 'ever (login) / 24 h',
  },
  ...velocity('device', 'from this device (any user)'),
  {
    name: 'device.accounts24h',
    type: 'number',
    meaning: 'distinct users with events (any type) from this device in the last 24 h, this one included',
    nullable: true,
    window: '24 h',
  },
  {
    name: 'network.isNew',
    type: 'boolean',
    meaning:
      'the /24 (IPv4) or /48 (IPv6) network of the request is new for the account (its first network is never new; false without an IP)',
    window: 'ever',
  },
  { name: 'ip.address', type: 'string', meaning: 'the client IP address of the request', nullable: true },
  { name: 'ip.country', type: 'string', meaning: 'country of the IP, as reported by the edge (FRAUD_IP_COUNTRY_HEADER)', nullable: true },
  ...velocity('ip', 'from this IP address (any user)'),
  {
    name: 'ip.accounts24h',
    type: 'number',
    meaning: 'distinct users with events (any type) from this IP in the last 24 h, this one included',
    nullable: true,
    window: '24 h',
  },
  { name: 'card.fingerprint', type: 'string', meaning: 'Stripe’s card fingerprint (payment_succeeded)', nullable: true },
  { name: 'card.country', type: 'string', meaning: 'the card’s issuing country (payment_succeeded)', nullable: true },
  ...velocity('card', 'with this card (any user)'),
  {
    name: 'card.accounts7d',
    type: 'number',
    meaning: 'distinct users who paid with this card in the last 7 days, this one included',
    nullable: true,
    window: '7 d',
  },
  { name: 'payment.riskScore', type: 'number', meaning: 'Stripe Radar’s risk score, 0-99 (payment_succeeded)', nullable: true },
  { name: 'recipient.id', type: 'string', meaning: 'who receives a gift or transfer', nullable: true },
  { name: 'recipient.ageDays', type: 'number', meaning: "days since the recipient's account was created", nullable: true },
  {
    name: 'recipient.sharesDevice',
    type: 'boolean',
    meaning: "the recipient had events in the last 30 days from the sender's current device or one the sender used in that time",
    nullable: true,
    window: '30 d',
  },
  {
    name: 'recipient.sharesIp',
    type: 'boolean',
    meaning: "the recipient had events in the last 30 days from the sender's current IP or one the sender used in that time",
    nullable: true,
    window: '30 d',
  },
];

export const FEATURE_NAMES: ReadonlySet<string> = new Set(FEATURE_CATALOG.map((f) => f.name));

/** The list types `in_list` accepts, and the feature each is naturally tested with. */
export const LIST_FEATURE: Readonly<Record<string, string>> = {
  user: 'user.id',
  email: 'user.email',
  email_domain: 'user.emailDomain',
  ip: 'ip.address',
  ip_cidr: 'ip.address',
  device: 'device.id',
  card_fingerprint: 'card.fingerprint',
};

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_CATALOG, FEATURE_NAMES, FeatureSpec, LIST_FEATURE } from './feature-catalog';
import { LIST_TYPES } from './fraud.types';

/**
 * docs/fraud.md's feature table is FEATURE_CATALOG, row for row. After changing the catalog, rewrite the
 * table with `FRAUD_DOCS=write npx jest src/fraud/feature-catalog.spec.ts` (then `npx prettier --write docs/fraud.md`).
 */
const DOC = join(__dirname, '../../docs/fraud.md');
const START = '<!-- feature-catalog:start (generated from src/fraud/feature-catalog.ts) -->';
const END = '<!-- feature-catalog:end -->';
const HEADER = ['feature', 'type', 'meaning', 'window'];

const cells = (f: FeatureSpec): string[] => [
  `\`${f.name}\``,
  f.nullable ? `${f.type} or null` : f.type,
  f.meaning.replaceAll('|', '\\|'),
  f.window ?? '—',
];

function renderTable(): string {
  const row = (xs: string[]) => `| ${xs.join(' | ')} |`;
  return [row(HEADER), row(HEADER.map(() => '---')), ...FEATURE_CATALOG.map((f) => row(cells(f)))].join('\n');
}

/** The table between the markers, as rows of trimmed cells (prettier pads the columns). */
function documentedRows(doc: string): string[][] {
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/fraud.md has no ${START} ... ${END} section`);
  return doc
    .slice(from + START.length, to)
    .split('\n')
    .filter((l) => l.trim().startsWith('|'))
    .map((l) =>
      l
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    )
    .filter((cs) => !cs.every((c) => /^:?-+:?$/.test(c)));
}

describe('FEATURE_CATALOG', () => {
  if (process.env.FRAUD_DOCS === 'write') {
    const doc = readFileSync(DOC, 'utf8');
    writeFileSync(DOC, `${doc.slice(0, doc.indexOf(START) + START.length)}\n\n${renderTable()}\n\n${doc.slice(doc.indexOf(END))}`);
  }

  it('is what docs/fraud.md documents, row for row', () => {
    expect(documentedRows(readFileSync(DOC, 'utf8'))).toEqual([HEADER, ...FEATURE_CATALOG.map(cells)]);
  });

  it('names each feature once, and says what it means', () => {
    expect(FEATURE_NAMES.size).toBe(FEATURE_CATALOG.length);
    for (const f of FEATURE_CATALOG)
      expect([f.name, /^[a-z]+\.[a-zA-Z0-9]+$/.test(f.name) && f.meaning.length > 10]).toEqual([f.name, true]);
  });

  it('has the names API.md promises, per user, IP, device and card over 1 h, 24 h and 7 d', () => {
    const promised = [
      'event.type',
      'event.amount',
      'user.ageDays',
      'user.emailVerified',
      'user.twoFactorEnabled',
      'user.roles',
      'user.chargebacks',
      'user.disputesLost',
      'device.isNew',
      'network.isNew',
      'user.events1h',
      'user.events24h',
      'user.amount24h',
      'ip.events1h',
      'ip.accounts24h',
      'card.fingerprint',
      'card.country',
      'ip.country',
      'payment.riskScore',
      'recipient.ageDays',
      'recipient.sharesDevice',
      'recipient.sharesIp',
      'user.cards24h',
      'event.amountToMedian',
      ...['user', 'ip', 'device', 'card'].flatMap((s) => ['1h', '24h', '7d'].map((w) => `${s}.events${w}`)),
    ];
    expect(promised.filter((n) => !FEATURE_NAMES.has(n))).toEqual([]);
  });

  it('tests every list type with a feature of the catalog', () => {
    expect(Object.keys(LIST_FEATURE).sort()).toEqual([...LIST_TYPES].sort());
    for (const feature of Object.values(LIST_FEATURE)) expect(FEATURE_NAMES.has(feature)).toBe(true);
  });
});

import type { EconomyReportView, IntervalView } from './dto/economy-report.dto';

type Flat = Map<string, string | number | boolean | null>;

/** An interval's figures as dotted columns; per-currency lists become `<path>.<currency>.count|cents`, takeovers keep their count and median. */
function flatten(value: unknown, path: string, out: Flat): void {
  if (Array.isArray(value)) {
    for (const item of value as { currency?: string }[]) {
      if (item && typeof item.currency === 'string') {
        const { currency, ...rest } = item;
        flatten(rest, `${path}.${currency}`, out);
      }
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
    return;
  }
  out.set(path, value as string | number | boolean | null);
}

const cell = (v: string | number | boolean | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** GET /admin/economy/report.csv: one line per interval, then the total (`interval` = total). */
export function reportCsv(report: EconomyReportView): string {
  const rows: [string, IntervalView][] = [...report.intervals.map((i): [string, IntervalView] => ['interval', i]), ['total', report.total]];
  const flats = rows.map(([kind, i]) => {
    const out: Flat = new Map([['row', kind]]);
    const { harm, ...rest } = i;
    const { takeovers, ...otherHarm } = harm;
    flatten(rest, '', out);
    flatten(otherHarm, 'harm', out);
    out.set('harm.takeovers.count', takeovers.count);
    out.set('harm.takeovers.medianSecondsToContain', takeovers.medianSecondsToContain);
    return out;
  });
  const columns: string[] = [];
  for (const f of flats) for (const k of f.keys()) if (!columns.includes(k)) columns.push(k);
  return (
    [
      columns.join(','),
      ...flats.map((f) => columns.map((c) => cell(f.get(c) ?? (c.includes('.cents') || c.endsWith('.count') ? 0 : null))).join(',')),
    ].join('\n') + '\n'
  );
}

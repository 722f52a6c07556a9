/**
 * Parses an `application/x-www-form-urlencoded` body the way Stripe's API reads it: bracketed keys
 * nest (`metadata[purchase_id]=x` → `{metadata: {purchase_id: 'x'}}`, `expand[0]=a` → `{expand: ['a']}`).
 * Values stay strings; the caller converts what it needs.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

export function parseFormBody(body: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!match) continue;
    const path = [match[1], ...[...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1])];
    let node: Record<string, FormValue> | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i];
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1]);
      const slot: string | number = Array.isArray(node) ? (key === '' ? node.length : Number(key)) : key;
      const container = node as Record<string | number, FormValue>;
      if (last) {
        container[slot] = value;
      } else {
        container[slot] ??= nextIsIndex ? [] : {};
        node = container[slot] as Record<string, FormValue> | FormValue[];
      }
    }
  }
  return root;
}

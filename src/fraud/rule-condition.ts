import jsonLogic from 'json-logic-js';
import type { FieldError } from '../common/errors';
import { FEATURE_NAMES } from './feature-catalog';
import { FeatureValues, LIST_TYPES } from './fraud.types';

/**
 * Rule conditions: JsonLogic (json-logic-js, never eval) over the feature catalog, plus
 * `{"in_list": [<list type>, <value>]}`. Iterating operators (map, filter, all, ...) and `log` are
 * not offered; `var` must name a catalog feature literally.
 */
const OPERATORS = new Set([
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!',
  '!!',
  'or',
  'and',
  'if',
  '?:',
  'in',
  'cat',
  'substr',
  '+',
  '-',
  '*',
  '/',
  '%',
  'min',
  'max',
  'merge',
  'missing',
  'missing_some',
  'var',
  'in_list',
]);
const MAX_DEPTH = 24;
const MAX_NODES = 1000;
const LISTS = new Set<string>(LIST_TYPES);

/** List membership the evaluator may consult: `${type}\u0000${value}` for every entry that matched. */
const MEMBERSHIP = Symbol('fraud.membership');
export type Data = Record<string, unknown> & { [MEMBERSHIP]?: ReadonlySet<string> };

export const membershipKey = (type: string, value: string): string => `${type}\u0000${value}`;

jsonLogic.add_operation('in_list', function (this: Data, type: unknown, value: unknown) {
  if (typeof type !== 'string' || value === null || value === undefined || value === '') return false;
  return this[MEMBERSHIP]?.has(membershipKey(type, String(value))) ?? false;
});

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Every problem with a condition, each naming what is wrong ([] when it is valid). */
export function validateCondition(condition: unknown): FieldError[] {
  const problems: FieldError[] = [];
  let nodes = 0;
  const fail = (message: string) => problems.length < 20 && problems.push({ field: 'condition', message });
  const walk = (node: unknown, depth: number): void => {
    if (++nodes > MAX_NODES) return void (nodes === MAX_NODES + 1 && fail(`has more than ${MAX_NODES} nodes`));
    if (depth > MAX_DEPTH) return void fail(`is nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(node)) return node.forEach((n) => walk(n, depth + 1));
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length !== 1) return void fail(`an operation must have exactly one operator, found ${JSON.stringify(keys.slice(0, 5))}`);
    const op = keys[0];
    if (!OPERATORS.has(op)) return void fail(`unknown operator "${op}"`);
    const args = node[op];
    if (op === 'var') return checkVar(args, fail);
    if (op === 'in_list') return checkInList(args, fail, (n) => walk(n, depth + 1));
    if (op === 'missing' || op === 'missing_some') return checkMissing(op, args, fail);
    walk(args, depth + 1);
  };
  walk(condition, 0);
  if (!isObject(condition)) fail('must be a JsonLogic operation (an object with one operator)');
  return problems;
}

function checkVar(args: unknown, fail: (m: string) => void): void {
  const name = Array.isArray(args) ? args[0] : args;
  if (typeof name !== 'string') return void fail('"var" must name a feature with a literal string');
  if (!FEATURE_NAMES.has(name)) fail(`unknown variable "${name}"`);
  if (Array.isArray(args) && args.length > 2) fail(`"var" takes a name and an optional default`);
  if (Array.isArray(args) && isObject(args[1])) fail(`the default of "var" must be a literal`);
}

/**
 * `missing` and `missing_some` name features too (as strings), so they take literal catalog names;
 * json-logic-js would also throw on `missing_some` over anything but an array.
 */
function checkMissing(op: string, args: unknown, fail: (m: string) => void): void {
  const list =
    op === 'missing_some' ? (Array.isArray(args) && typeof args[0] === 'number' && args.length === 2 ? args[1] : undefined) : args;
  const names = Array.isArray(list) ? list : op === 'missing' ? [list] : undefined;
  if (!names || names.some((n) => typeof n !== 'string')) {
    return void fail(
      op === 'missing' ? '"missing" takes literal feature names' : '"missing_some" takes [a number, [literal feature names]]',
    );
  }
  for (const name of names as string[]) if (!FEATURE_NAMES.has(name)) fail(`unknown variable "${name}"`);
}

function checkInList(args: unknown, fail: (m: string) => void, walk: (n: unknown) => void): void {
  if (!Array.isArray(args) || args.length !== 2) return void fail('"in_list" takes [list type, value]');
  if (typeof args[0] !== 'string' || !LISTS.has(args[0])) {
    return void fail(`unknown list type ${JSON.stringify(args[0])} (one of ${[...LISTS].join(', ')})`);
  }
  walk(args[1]);
}

/** The feature names a (valid) condition reads. */
export function conditionVariables(condition: unknown): string[] {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObject(node)) return;
    for (const [op, args] of Object.entries(node)) {
      if (op === 'var') names.add(String(Array.isArray(args) ? args[0] : args));
      else if (op === 'missing') for (const n of [args].flat()) names.add(String(n));
      else if (op === 'missing_some' && Array.isArray(args)) for (const n of [args[1]].flat()) names.add(String(n));
      else walk(args);
    }
  };
  walk(condition);
  return [...names];
}

const featurePaths = new Map<string, string[]>();
/** A feature name's parts (`user.ageDays` → user, ageDays); the names are the catalog's, so few. */
function featurePath(name: string): string[] {
  let path = featurePaths.get(name);
  if (!path) featurePaths.set(name, (path = name.split('.')));
  return path;
}

/** The rule data of one event: the features nested by their dots, as `var` walks them. */
export function ruleData(features: FeatureValues, membership?: ReadonlySet<string>): Data {
  const data: Data = {};
  for (const name in features) {
    const path = featurePath(name);
    let at: Record<string, unknown> = data;
    for (let i = 0; i < path.length - 1; i++) at = (at[path[i]] ??= {}) as Record<string, unknown>;
    at[path[path.length - 1]] = features[name];
  }
  if (membership) data[MEMBERSHIP] = membership;
  return data;
}

/** The `(list type, value)` pairs a condition would look up for this data (values evaluated). */
export function listProbes(condition: unknown, data: Data): { type: string; value: string }[] {
  const probes: { type: string; value: string }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObject(node)) return;
    for (const [op, args] of Object.entries(node)) {
      if (op === 'in_list' && Array.isArray(args)) {
        const value = jsonLogic.apply(args[1], data);
        if (value !== null && value !== undefined && value !== '') probes.push({ type: String(args[0]), value: String(value) });
        walk(args[1]);
      } else walk(args);
    }
  };
  walk(condition);
  return probes;
}

/** Whether the condition holds (JsonLogic truthiness). Throws what the condition throws. */
export function conditionHolds(condition: unknown, data: Data): boolean {
  return jsonLogic.truthy(jsonLogic.apply(condition, data));
}

/**
 * Policy text (YAML, or JSON, which is YAML) or an already-parsed object (IT's inline lockedPolicy)
 * to a typed PolicyDocument, or every problem with file, line, column and rule id. Never throws
 * for bad input: a malformed policy is a value, not a crash.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { validate as validatePolicySchema } from './generated/policyValidator.js';
import type { PolicyDocument, PolicyProblem } from '../api/policy.ts';
import { FLAG_CODES } from '../api/policy.ts';
import { checkPolicyDocument, type DocPath, type RawProblem } from './checks.ts';
import { POLICY_SCHEMA } from './schema.ts';
import { suggest } from '../util/suggest.ts';

/** A policy file is small; anything bigger is refused. */
export const MAX_POLICY_BYTES = 4 * 1024 * 1024;
/** Aliases are legal YAML, but a few are plenty; this stops "billion laughs" expansion. */
const MAX_ALIASES = 100;

/** A parsed policy and the line of each rule (for explanations: "file:line"). */
export type ParsedPolicy = Readonly<{
  file: string;
  document: PolicyDocument;
  ruleLines: readonly number[];
  localLines: readonly number[];
}>;

export type ParseResult =
  | { readonly ok: true; readonly policy: ParsedPolicy; readonly problems: readonly PolicyProblem[] }
  | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

type Position = { line: number; column: number };
type Locator = (path: DocPath, atKey?: boolean) => Position;

const PATTERN_HINTS: Readonly<Record<string, string>> = {
  id: 'must be letters, digits, ".", "_" or "-" (up to 128, starting with a letter or digit)',
  credential: 'must be a credential name: letters, digits, ".", "_" or "-"',
  agents: 'must be "*", an agent kind such as "claude-code", or an inventory agent id',
  hosts: 'must be a host name, "*.example.com" or "**" (no scheme, port or path)',
  ports: 'must be a port (1-65535) or a range such as "8000-8999"',
  methods: 'must be an HTTP method such as GET',
  paths: 'must start with "/" (or "*") and contain no spaces',
};

/** At most this many problems are reported per source (a hostile file could produce millions). */
const MAX_PROBLEMS = 200;

/** Parses policy text. `file` is only used in problems. */
export function parsePolicyText(text: string, file: string): ParseResult {
  try {
    return parseTextUnguarded(text, file);
  } catch (error) {
    // The parser guards itself against deep nesting, but a malformed policy must never crash the caller.
    return fail([problem(file, { line: 0, column: 0 }, [], 'error', `cannot parse: ${firstLine(error instanceof Error ? error.message : String(error))}`)]);
  }
}

function parseTextUnguarded(text: string, file: string): ParseResult {
  if (text.length > MAX_POLICY_BYTES) return fail([problem(file, { line: 0, column: 0 }, [], 'error', `the file is larger than ${MAX_POLICY_BYTES} bytes`)]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number): Position => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const yamlProblems = [...doc.errors, ...doc.warnings].map((e) =>
    problem(file, at(e.pos[0]), [], doc.errors.includes(e as never) ? 'error' : 'warning', `YAML: ${firstLine(e.message)}`),
  );
  if (doc.errors.length > 0) return fail(yamlProblems);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    return fail([...yamlProblems, problem(file, { line: 1, column: 1 }, [], 'error', `YAML: ${firstLine(error instanceof Error ? error.message : String(error))}`)]);
  }
  const locate = yamlLocator(doc, at);
  return validate(value, file, locate, yamlProblems);
}

/** Validates an object that has no text (an inline lockedPolicy from managed settings). */
export function parsePolicyValue(value: unknown, file: string): ParseResult {
  return validate(value, file, () => ({ line: 0, column: 0 }), []);
}

function validate(value: unknown, file: string, locate: Locator, earlier: PolicyProblem[]): ParseResult {
  if (value === null || value === undefined) return fail([...earlier, problem(file, locate([]), [], 'error', 'the policy is empty: it needs at least "version: 1"')]);
  // ajv's code generated from POLICY_SCHEMA ahead of time (scripts/generate-validators.ts).
  const validateFn = validatePolicySchema;
  const ruleIdOf = (path: DocPath): string | undefined => ruleId(value, path);
  const mk = (p: RawProblem): PolicyProblem => problem(file, locate(p.path, p.atKey), p.path, p.severity, p.message, ruleIdOf(p.path));
  const schemaValid = validateFn(value);
  const schemaProblems = schemaValid ? [] : (validateFn.errors ?? []).map(describe).filter((p): p is RawProblem => p !== null);
  // The semantic checks run either way, so one `cordon policy check` shows every problem.
  // Advice (warnings) only makes sense once the document has the right shape.
  const semantic = checkPolicyDocument(value, (path) => locate(path).line).filter((p) => schemaValid || p.severity === 'error');
  const problems = [...earlier, ...dedupe([...schemaProblems, ...semantic]).map(mk)];
  if (!schemaValid || problems.some((p) => p.severity === 'error')) return fail(problems);
  const document = value as PolicyDocument;
  return {
    ok: true,
    policy: {
      file,
      document,
      ruleLines: (document.rules ?? []).map((_, i) => locate(['rules', i]).line),
      localLines: (document.local ?? []).map((_, i) => locate(['local', i]).line),
    },
    problems,
  };
}

/** Turns one ajv error into a problem with a message a policy author can act on. */
function describe(error: ErrorObject): RawProblem | null {
  const path = pointerToPath(error.instancePath);
  const last = path[path.length - 1];
  const parentKey = typeof last === 'number' ? path[path.length - 2] : last;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(propertiesAt(path));
      return { path: [...path, key], atKey: true, severity: 'error', message: `unknown key ${JSON.stringify(key.slice(0, 100))}${suggest(key, known)}${known.length > 0 ? ` (allowed: ${known.join(', ')})` : ''}` };
    }
    case 'required':
      return { path, severity: 'error', message: `missing required key "${String(params.missingProperty)}"` };
    case 'propertyNames':
      return null; // reported by the enum error on the name itself
    case 'enum': {
      if (error.propertyName !== undefined || (parentKey === 'flags' && typeof last === 'number')) {
        const name = error.propertyName ?? '';
        return {
          path: error.propertyName !== undefined ? [...path, name] : path,
          atKey: error.propertyName !== undefined,
          severity: 'error',
          message: unknownFlag(error.propertyName ?? String(valueHint(error))),
        };
      }
      return { path, severity: 'error', message: `must be one of: ${((params.allowedValues as unknown[]) ?? []).map(String).join(', ')}` };
    }
    case 'const':
      return { path, severity: 'error', message: path[0] === 'version' ? 'must be 1 (the only policy format version)' : `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { path, severity: 'error', message: PATTERN_HINTS[String(parentKey)] ?? 'has the wrong format' };
    case 'type':
      return { path, severity: 'error', message: `must be ${typeName(String(params.type))}` };
    case 'uniqueItems':
      return { path, severity: 'error', message: `items ${String(params.j)} and ${String(params.i)} are the same` };
    case 'minimum':
    case 'maximum':
      return { path, severity: 'error', message: parentKey === 'ports' ? PATTERN_HINTS.ports ?? '' : (error.message ?? 'is out of range') };
    default:
      return { path, severity: 'error', message: error.message ?? 'is invalid' };
  }
}

function unknownFlag(name: string): string {
  const hint = suggest(name, FLAG_CODES);
  return `unknown flag code "${name.slice(0, 64)}"${hint || ` (known: ${FLAG_CODES.join(', ')})`}`;
}

function valueHint(error: ErrorObject): unknown {
  return (error as { data?: unknown }).data ?? '';
}

/** The schema properties known at a document path, for "allowed:" lists. */
function propertiesAt(path: DocPath): Record<string, unknown> {
  const props = POLICY_SCHEMA.properties as Record<string, unknown>;
  if (path.length === 0) return props;
  const section = path[0];
  const items = (s: string): Record<string, unknown> => ((props[s] as { items: { properties: Record<string, unknown> } }).items.properties);
  if ((section === 'rules' || section === 'local') && path.length === 2) return items(section);
  if (section === 'defaults' && path.length === 1) return (props.defaults as { properties: Record<string, unknown> }).properties;
  if (section === 'rules' && path.length === 3) {
    const sub = (items('rules')[String(path[2])] as { properties?: Record<string, unknown> } | undefined)?.properties;
    return sub ?? {};
  }
  if (section === 'local' && path.length === 4 && path[2] === 'mcp') return { server: 1, tools: 1 };
  return {};
}

function yamlLocator(doc: Document, at: (offset: number) => Position): Locator {
  return (path, atKey = false) => {
    let node: unknown = doc.contents;
    let keyNode: unknown = null;
    for (const seg of path) {
      keyNode = null;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
      } else {
        break;
      }
    }
    const target = (atKey && keyNode ? keyNode : node) as YamlNode | null;
    const offset = target && 'range' in target && target.range ? target.range[0] : 0;
    return at(offset);
  };
}

function ruleId(value: unknown, path: DocPath): string | undefined {
  if ((path[0] !== 'rules' && path[0] !== 'local') || typeof path[1] !== 'number') return undefined;
  const list = (value as Record<string, unknown>)[path[0]];
  const rule = Array.isArray(list) ? (list[path[1]] as Record<string, unknown> | undefined) : undefined;
  return typeof rule?.id === 'string' && rule.id.length <= 128 ? rule.id : undefined;
}

function problem(file: string, pos: Position, path: DocPath, severity: 'error' | 'warning', message: string, id?: string): PolicyProblem {
  return { file, line: pos.line, column: pos.column, ...(id !== undefined ? { ruleId: id } : {}), path: pathLabel(path), severity, message };
}

/** ['rules', 3, 'cidrs', 0] -> "rules[3].cidrs[0]". */
export function pathLabel(path: DocPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((p) => (/^(0|[1-9][0-9]*)$/.test(p) ? Number(p) : p));
}

function dedupe(problems: RawProblem[]): RawProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    // One problem per list entry (the schema's message first: it is the more general one).
    const entry = p.path.length > 2 && typeof p.path[p.path.length - 1] === 'number';
    const key = `${pathLabel(p.path)}\u0000${p.atKey === true}\u0000${entry ? '' : p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function fail(problems: PolicyProblem[]): ParseResult {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  if (sorted.length <= MAX_PROBLEMS) return { ok: false, problems: sorted };
  const more = sorted.length - MAX_PROBLEMS;
  const last = sorted[MAX_PROBLEMS - 1];
  const note = problem(last?.file ?? '', { line: last?.line ?? 0, column: last?.column ?? 0 }, [], 'error', `... and ${more} more problem${more === 1 ? '' : 's'} not shown`);
  return { ok: false, problems: [...sorted.slice(0, MAX_PROBLEMS), note] };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim();
}

function typeName(type: string): string {
  const names: Record<string, string> = { array: 'a list', object: 'a mapping (key: value)', string: 'a string', boolean: 'true or false', integer: 'a whole number', 'integer,string': 'a number or a string' };
  return names[type] ?? type;
}



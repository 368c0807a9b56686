/**
 * Config text to plain values: JSON (tolerant of comments and trailing commas, as JSONC and the
 * JSON5-ish files clients accept), TOML and YAML, through maintained parsers. A syntax error is a
 * value with line and column, never a throw, and its message never quotes the file's content.
 */
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseDocument } from 'yaml';

export type ConfigFormat = 'json' | 'toml' | 'yaml';

export type ParseOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** Deeper nesting than this is refused: no client config needs it, and recursion must stay bounded. */
const MAX_DEPTH = 200;
/** YAML alias expansions allowed (a "billion laughs" document stops here). */
const MAX_YAML_ALIASES = 100;

/** Parses config text; the outcome carries a position-only message on failure. */
export function parseConfig(text: string, format: ConfigFormat): ParseOutcome {
  try {
    if (format === 'json') return parseJson(text);
    if (format === 'toml') return parseTomlText(text);
    return parseYaml(text);
  } catch (error) {
    // Stack exhaustion from pathological nesting, or a parser bug: a parse error, not a crash.
    const reason = error instanceof RangeError ? 'nesting too deep' : 'unreadable document';
    return { ok: false, message: `${formatName(format)} could not be parsed: ${reason}` };
  }
}

function parseJson(text: string): ParseOutcome {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  const first = errors[0];
  if (first) {
    const { line, column } = position(text, first.offset);
    return { ok: false, message: `JSON syntax error (${printParseErrorCode(first.error)}) at line ${line}, column ${column}` };
  }
  if (!tree) return { ok: true, value: undefined };
  return { ok: true, value: nodeValue(tree, 0) };
}

/** Builds values from the syntax tree so a "__proto__" key is an ordinary own property. */
function nodeValue(node: Node, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new RangeError('depth');
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (!keyNode || typeof keyNode.value !== 'string') continue;
        defineOwn(out, keyNode.value, valueNode ? nodeValue(valueNode, depth + 1) : null);
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((child) => nodeValue(child, depth + 1));
    default:
      return node.value;
  }
}

function parseTomlText(text: string): ParseOutcome {
  try {
    return { ok: true, value: parseToml(text, { maxDepth: MAX_DEPTH }) };
  } catch (error) {
    if (error instanceof TomlError) {
      return { ok: false, message: `TOML syntax error at line ${error.line}, column ${error.column}` };
    }
    throw error;
  }
}

function parseYaml(text: string): ParseOutcome {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, strict: false });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    return { ok: false, message: `YAML syntax error (${first.code})${where}` };
  }
  const value: unknown = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  return { ok: true, value };
}

/** 1-based line and column of a character offset. */
export function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function formatName(format: ConfigFormat): string {
  return format === 'json' ? 'JSON' : format === 'toml' ? 'TOML' : 'YAML';
}

/**
 * Parses JSON with comments (settings files) into plain values, reporting the first syntax error
 * with its line and column. Object keys become own properties, so a "__proto__" key in a file
 * is data, never a prototype change.
 */
import { parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Node, ParseError } from 'jsonc-parser';

export type JsoncResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly column: number };

/** Nesting deeper than this is refused: no settings document needs it, and it bounds recursion. */
const MAX_DEPTH = 64;

/** Parses JSONC (comments and trailing commas allowed). Empty or whitespace-only text is an error. */
export function parseJsonc(text: string): JsoncResult {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumn(text, first.offset);
    return { ok: false, message: `${describeCode(printParseErrorCode(first.error))} at line ${line}, column ${column}`, line, column };
  }
  if (!root) return { ok: false, message: 'the file is empty: expected a JSON object', line: 1, column: 1 };
  const value = nodeValue(root, 0);
  if (value === TOO_DEEP) {
    const { line, column } = lineColumn(text, root.offset);
    return { ok: false, message: `nested more than ${MAX_DEPTH} levels deep`, line, column };
  }
  return { ok: true, value };
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

const TOO_DEEP = Symbol('too deep');

function nodeValue(node: Node, depth: number): unknown {
  if (depth > MAX_DEPTH) return TOO_DEEP;
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (!keyNode || !valueNode) continue;
        const value = nodeValue(valueNode, depth + 1);
        if (value === TOO_DEEP) return TOO_DEEP;
        Object.defineProperty(out, String(keyNode.value), { value, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 'array': {
      const out: unknown[] = [];
      for (const child of node.children ?? []) {
        const value = nodeValue(child, depth + 1);
        if (value === TOO_DEEP) return TOO_DEEP;
        out.push(value);
      }
      return out;
    }
    default:
      return node.value as unknown;
  }
}

function describeCode(code: string): string {
  // "CommaExpected" → "comma expected"
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

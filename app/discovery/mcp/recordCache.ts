/**
 * Records built from one parsed document, kept while that document object lives (the parse cache
 * hands out the same object while the file is unchanged). Records hold no secret values, so this
 * cache adds nothing sensitive; it saves re-classifying and re-hashing unchanged servers each scan.
 */
import type { McpServerRecord, ScanError } from '../../api/inventory.ts';

export type BuiltFile = Readonly<{ records: readonly McpServerRecord[]; errors: readonly ScanError[] }>;

const byDocument = new WeakMap<object, Map<string, BuiltFile>>();

/** The records built earlier from this very document object by the same reading (key). */
export function cachedRecords(doc: unknown, key: string): BuiltFile | undefined {
  return typeof doc === 'object' && doc !== null ? byDocument.get(doc)?.get(key) : undefined;
}

/** Keeps the records built from a document for the next scan that sees the same document. */
export function rememberRecords(doc: unknown, key: string, built: BuiltFile): void {
  if (typeof doc !== 'object' || doc === null) return;
  let perDoc = byDocument.get(doc);
  if (!perDoc) {
    perDoc = new Map();
    byDocument.set(doc, perDoc);
  }
  perDoc.set(key, built);
}

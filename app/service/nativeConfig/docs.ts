/**
 * The generated parts of docs/it-deployment.md: blocks between `<!-- BEGIN GENERATED: name -->`
 * and `<!-- END GENERATED: name -->` are rewritten from the schema; the prose around them is
 * written by hand. So the keys table cannot go stale while the guide stays editable.
 */
import { MANAGED_DEFAULTS_KEY, SETTING_KEYS } from '../../api/settings.ts';
import { settingSchema } from '../../config/schema.ts';
import { constraintText, formatDefault, jsonTypeText, markdownCell, plistTypeText, registryTypeText } from './describe.ts';
import { TEMPLATE_DEFAULTS_KEYS } from './template.ts';

export const IT_DEPLOYMENT_DOC = 'docs/it-deployment.md';

/** The generated blocks by name. */
export function itDeploymentBlocks(): Readonly<Record<string, string>> {
  return { keys: keysTable(), forms: formsTable() };
}

export type FilledDocument = Readonly<{ text: string; missing: readonly string[] }>;

/**
 * Rewrites every known block in `text`. Blocks whose markers are missing are listed in `missing`
 * (the text is otherwise unchanged); markers are matched exactly, one pair per block.
 */
export function fillGeneratedBlocks(text: string, blocks: Readonly<Record<string, string>> = itDeploymentBlocks()): FilledDocument {
  let out = text;
  const missing: string[] = [];
  for (const [name, body] of Object.entries(blocks)) {
    const begin = `<!-- BEGIN GENERATED: ${name} (npm run native-config) -->`;
    const end = `<!-- END GENERATED: ${name} -->`;
    const start = out.indexOf(begin);
    const stop = start < 0 ? -1 : out.indexOf(end, start + begin.length);
    if (start < 0 || stop < 0 || out.indexOf(begin, start + begin.length) >= 0) {
      missing.push(name);
      continue;
    }
    out = `${out.slice(0, start + begin.length)}\n${body}${out.slice(stop)}`;
  }
  return { text: out, missing };
}

/** Every key: type, default, allowed values, where the templates put it, and what it does. */
function keysTable(): string {
  const rows = SETTING_KEYS.map((key) => {
    const schema = settingSchema(key);
    const template = TEMPLATE_DEFAULTS_KEYS.includes(key) ? MANAGED_DEFAULTS_KEY : 'enforced';
    return `| \`${key}\` | ${schema.type} | \`${markdownCell(formatDefault(key))}\` | ${markdownCell(constraintText(key))} | ${template} | ${markdownCell(`**${schema.title}.** ${schema.description}`)} |`;
  });
  return `| Key | Type | Default | Allowed values | In the templates | Description |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** How each schema type is written in each managed source. */
function formsTable(): string {
  const types = [...new Set(SETTING_KEYS.map((key) => settingSchema(key).type))];
  const rows = types.map((type) => {
    const keys = SETTING_KEYS.filter((key) => settingSchema(key).type === type).map((key) => `\`${key}\``);
    return `| ${type} | ${markdownCell(plistTypeText(type))} | ${markdownCell(registryTypeText(type))} | ${jsonTypeText(type)} | ${keys.join(', ')} |`;
  });
  return `| Type | macOS profile (plist) | Windows registry | Linux JSON | Keys |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

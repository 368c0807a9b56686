/**
 * Human descriptions of a setting for the generated docs: its default, its constraints, and the
 * form it takes in each managed source (plist type, registry value, JSON). Pure, from the schema.
 */
import type { SettingKey } from '../../api/settings.ts';
import { SECRET_SETTING_KEYS } from '../../api/settings.ts';
import { settingSchema, type SettingType } from '../../config/schema.ts';

/** The schema default as JSON text (`""` for an empty string, so it is visible). */
export function formatDefault(key: SettingKey): string {
  return JSON.stringify(settingSchema(key).default);
}

/** The allowed values in words: the enum, the numeric range, length and count limits. */
export function constraintText(key: SettingKey): string {
  const schema = settingSchema(key);
  const parts: string[] = [];
  if (schema.enum) parts.push(`one of ${schema.enum.map((v) => `\`${v}\``).join(', ')}`);
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number') parts.push(`${schema.minimum} to ${schema.maximum}`);
  if (typeof schema.maxLength === 'number') parts.push(`at most ${schema.maxLength} characters`);
  if (typeof schema.maxItems === 'number') parts.push(`at most ${schema.maxItems} items`);
  if (schema.uniqueItems === true) parts.push('no duplicates');
  if (schema.type === 'boolean') parts.push('true or false');
  if (schema.type === 'object') parts.push('a JSON object');
  if (SECRET_SETTING_KEYS.includes(key)) parts.push('secret: never shown in output');
  return parts.join('; ');
}

/** The plist value type a key takes in a configuration profile, as Markdown code. */
export function plistTypeText(type: SettingType): string {
  switch (type) {
    case 'string':
      return '`<string>`';
    case 'boolean':
      return '`<true/>` or `<false/>`';
    case 'integer':
      return '`<integer>`';
    case 'array':
      return '`<array>` of `<string>`';
    case 'object':
      return '`<dict>`';
  }
}

/** The registry value type the ADMX writes (and the alternatives the reader accepts). */
export function registryTypeText(type: SettingType): string {
  switch (type) {
    case 'string':
      return 'REG_SZ';
    case 'boolean':
      return 'REG_DWORD 1 or 0';
    case 'integer':
      return 'REG_DWORD';
    case 'array':
      return 'subkey named after the key, with REG_SZ values 1, 2, 3, ... (or one REG_MULTI_SZ value)';
    case 'object':
      return 'REG_SZ holding a JSON object';
  }
}

/** The JSON type in /etc/cordon/managed.json. */
export function jsonTypeText(type: SettingType): string {
  return type === 'array' ? 'array of strings' : type;
}

/** One line for lists (PayloadDescription): "key: Title (type, default X)". */
export function keySummaryLine(key: SettingKey): string {
  const schema = settingSchema(key);
  return `${key}: ${schema.title} (${schema.type}, default ${formatDefault(key)})`;
}

/** Escapes text for a Markdown table cell. */
export function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

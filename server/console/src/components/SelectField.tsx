/** A labelled select for filter forms: one component, so every filter is labelled the same way. */
export type SelectOption = readonly [value: string, label: string];

export function SelectField({ id, label, value, options, onChange }: { id: string; label: string; value: string; options: readonly SelectOption[]; onChange(value: string): void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </div>
  );
}

/**
 * Stacked columns over time as hand-made SVG (no chart library), with a legend and the same
 * numbers as a table behind a disclosure for screen readers and exact values.
 */
export type Series = Readonly<{ key: string; label: string; className: string }>;
export type Column = Readonly<{ label: string; title: string; values: Readonly<Record<string, number>> }>;

const WIDTH = 640;
const HEIGHT = 160;
const PAD = 28;
const TICKS = 8;

export function ColumnChart({ title, series, columns, testId }: { title: string; series: readonly Series[]; columns: readonly Column[]; testId?: string }) {
  const totals = columns.map((c) => series.reduce((n, s) => n + (c.values[s.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const total = totals.reduce((a, b) => a + b, 0);
  const colW = (WIDTH - PAD) / Math.max(1, columns.length);
  const every = Math.max(1, Math.ceil(columns.length / TICKS));
  const summary = `${title}: ${series.map((s) => `${columns.reduce((n, c) => n + (c.values[s.key] ?? 0), 0)} ${s.label}`).join(', ')}`;
  return (
    <figure className="chart" data-testid={testId} data-total={total}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 18}`} role="img" aria-label={summary}>
        <line x1={PAD} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} className="axis" />
        <text x={0} y={12} className="tick">{max}</text>
        <text x={0} y={HEIGHT} className="tick">0</text>
        {columns.map((c, i) => {
          let y = HEIGHT;
          const x = PAD + i * colW + (colW > 6 ? 1 : 0);
          const w = Math.max(1, colW - (colW > 6 ? 2 : 0));
          return (
            <g key={i}>
              <title>{`${c.title}: ${series.map((s) => `${c.values[s.key] ?? 0} ${s.label}`).join(', ')}`}</title>
              <rect x={PAD + i * colW} y={0} width={colW} height={HEIGHT} className="hit" />
              {series.map((s) => {
                const h = ((c.values[s.key] ?? 0) / max) * (HEIGHT - 14);
                y -= h;
                return h > 0 ? <rect key={s.key} x={x} y={y} width={w} height={h} className={s.className} /> : null;
              })}
              {i % every === 0 ? <text x={x + w / 2} y={HEIGHT + 14} textAnchor="middle" className="tick">{c.label}</text> : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.key}><i className={s.className} aria-hidden="true" /> {s.label}</span>
        ))}
      </figcaption>
      <details className="chart-table">
        <summary>Show as table</summary>
        <table>
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr><th scope="col">Period</th>{series.map((s) => <th scope="col" key={s.key}>{s.label}</th>)}</tr>
          </thead>
          <tbody>
            {columns.map((c, i) => (
              <tr key={i}><th scope="row">{c.title}</th>{series.map((s) => <td key={s.key}>{c.values[s.key] ?? 0}</td>)}</tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

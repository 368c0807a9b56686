/** Two small SVG charts (no chart library): decisions over time, and top destinations. */

const COLORS = { allow: 'var(--ok)', log: 'var(--warn)', deny: 'var(--bad)' } as const;

export type HourBucket = { label: string; allow: number; log: number; deny: number };

/** Stacked columns of decisions per hour; the table alternative is the title text per column. */
export function DecisionsChart({ buckets }: { buckets: readonly HourBucket[] }) {
  const width = 480;
  const height = 160;
  const pad = 20;
  const max = Math.max(1, ...buckets.map((b) => b.allow + b.log + b.deny));
  const colW = (width - pad) / Math.max(1, buckets.length);
  const total = buckets.reduce((n, b) => n + b.allow + b.log + b.deny, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height + 18}`} role="img" aria-label={`Decisions per hour, ${total} in the last ${buckets.length} hours`}>
        <line x1={pad} y1={height} x2={width} y2={height} className="axis" />
        <text x={0} y={12} className="tick">{max}</text>
        {buckets.map((b, i) => {
          let y = height;
          const x = pad + i * colW + 2;
          const parts = (['allow', 'log', 'deny'] as const).map((k) => {
            const h = (b[k] / max) * (height - 10);
            y -= h;
            return h > 0 ? <rect key={k} x={x} y={y} width={colW - 4} height={h} fill={COLORS[k]} /> : null;
          });
          return (
            <g key={i}>
              <title>{`${b.label}: ${b.allow} allowed, ${b.log} logged, ${b.deny} denied`}</title>
              {parts}
              <text x={x + (colW - 4) / 2} y={height + 14} textAnchor="middle" className="tick">{b.label}</text>
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        <span><i style={{ background: COLORS.allow }} /> allowed</span>
        <span><i style={{ background: COLORS.log }} /> logged</span>
        <span><i style={{ background: COLORS.deny }} /> denied</span>
      </figcaption>
    </figure>
  );
}

/** Horizontal bars, most first. */
export function BarList({ items, label }: { items: readonly { label: string; value: number }[]; label: string }) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <ul className="barlist" aria-label={label}>
      {items.map((item) => (
        <li key={item.label}>
          <span className="barlist-label" title={item.label}>{item.label}</span>
          <span className="barlist-track" aria-hidden="true">
            <span className="barlist-bar" style={{ width: `${(item.value / max) * 100}%` }} />
          </span>
          <span className="barlist-value">{item.value}</span>
        </li>
      ))}
    </ul>
  );
}

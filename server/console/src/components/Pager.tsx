/** Previous/next controls for keyset-paged results, with the result count and query time. */
import type { Pager } from '../context.ts';

export function PagerControls({ pager, nextCursor, shown, tookMs, label }: { pager: Pager; nextCursor: string | null; shown: number; tookMs: number; label: string }) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={pager.previous} disabled={pager.page <= 1}>← Previous</button>
      <span className="muted small" aria-live="polite">Page {pager.page} · {shown} {shown === 1 ? 'row' : 'rows'} · {tookMs} ms</span>
      <button type="button" onClick={() => nextCursor && pager.next(nextCursor)} disabled={nextCursor === null}>Next →</button>
    </nav>
  );
}

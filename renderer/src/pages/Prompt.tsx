/**
 * The prompt view (#/prompt): only the oldest pending approval, for the tray's prompt window.
 * Refreshes on approval events and, as a fallback, every two seconds.
 */
import { useEffect } from 'react';
import { useCall } from '../client/hooks.ts';
import { ApprovalCard } from '../components/ApprovalCard.tsx';
import { Loaded } from '../components/ui.tsx';

export function Prompt() {
  const approvals = useCall('approvals', {}, ['approval.']);
  const { reload } = approvals;
  useEffect(() => {
    const id = setInterval(reload, 2000);
    return () => clearInterval(id);
  }, [reload]);
  return (
    <main className="prompt" aria-label="Cordon approval">
      <Loaded state={approvals}>
        {(list) => {
          const oldest = [...list].filter((a) => a.status === 'pending').sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
          if (!oldest) return <p className="muted empty" data-testid="no-pending">No pending approvals.</p>;
          const more = list.length - 1;
          return (
            <>
              <ApprovalCard key={oldest.id} approval={oldest} keyboard onAnswered={reload} />
              {more > 0 ? <p className="muted small">{more} more waiting.</p> : null}
            </>
          );
        }}
      </Loaded>
    </main>
  );
}

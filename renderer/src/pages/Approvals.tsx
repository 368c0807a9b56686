/** Approvals: the pending ones (answerable, keyboard on the first) and the recent history. */
import { useCall } from '../client/hooks.ts';
import { ApprovalCard } from '../components/ApprovalCard.tsx';
import { Badge, Card, Empty, Loaded, Page, actionTone } from '../components/ui.tsx';
import { describeSubject, formatTime } from '../format.ts';

export function Approvals() {
  const approvals = useCall('approvals', { all: true }, ['approval.']);
  return (
    <Page title="Approvals">
      <Loaded state={approvals}>
        {(list) => {
          const pending = list.filter((a) => a.status === 'pending').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
          const history = list.filter((a) => a.status !== 'pending').sort((a, b) => b.createdAt.localeCompare(a.createdAt));
          return (
            <>
              <Card title={`Pending (${pending.length})`} wide>
                {pending.length === 0 ? <Empty>Nothing is waiting for an answer.</Empty> : (
                  <>
                    <p className="muted small">Keys act on the first: <kbd>a</kbd> allow once, <kbd>A</kbd> always allow, <kbd>d</kbd> deny, <kbd>D</kbd> always deny.</p>
                    {pending.map((a, i) => <ApprovalCard key={a.id} approval={a} keyboard={i === 0} onAnswered={approvals.reload} />)}
                  </>
                )}
              </Card>
              <Card title="History" wide>
                {history.length === 0 ? <Empty>No approvals answered yet.</Empty> : (
                  <table>
                    <thead><tr><th scope="col">Asked</th><th scope="col">Agent</th><th scope="col">What</th><th scope="col">Outcome</th><th scope="col">By</th></tr></thead>
                    <tbody>
                      {history.map((a) => (
                        <tr key={a.id}>
                          <td>{formatTime(a.createdAt)}</td>
                          <td>{a.agent?.name ?? 'unattributed'}</td>
                          <td>{describeSubject(a.subject)}</td>
                          <td><Badge tone={actionTone(a.status)}>{a.status}</Badge> {a.answer?.answer ?? ''}</td>
                          <td>{a.answer?.by ?? '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}

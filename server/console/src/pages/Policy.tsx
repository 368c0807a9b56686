/**
 * The fleet policy: the current text, an editor that validates and pushes a new version
 * (PUT /admin/v1/policy; refused policies show their problems by line and nothing is saved), the
 * versions with activate (rollback), and which version the devices have applied. Viewers read only.
 */
import { useEffect, useRef, useState, type RefObject, type UIEvent } from 'react';
import type { SyncProblem } from '../../../../app/api/sync.ts';
import { Badge, Card, Empty, Loaded, Page } from '../../../../renderer/src/components/ui.tsx';
import { ApiError } from '../api.ts';
import { ConfirmButton } from '../components/Confirm.tsx';
import { useApi, useConsole } from '../context.ts';
import { formatTime, messageOf, short } from '../format.ts';

const TEMPLATE = 'version: 1\nrules: []\n';

type Problem = Readonly<{ line: number | null; column: number | null; message: string }>;

/** A server problem ("line 3, column 5: ...") with its line and column taken out. */
function problemOf(p: SyncProblem): Problem {
  const m = /^line (\d+)(?:, column (\d+))?: ?(.*)$/s.exec(p.message);
  if (m) return { line: Number(m[1]), column: m[2] ? Number(m[2]) : null, message: `${m[3] ?? ''}${p.field && !p.field.startsWith('line ') ? ` (${p.field})` : ''}` };
  return { line: null, column: null, message: p.field ? `${p.field}: ${p.message}` : p.message };
}

/** The offset of line:column (1-based) in text. */
function offsetOf(text: string, line: number, column: number | null): number {
  let offset = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return Math.min(text.length, offset + Math.max(0, (column ?? 1) - 1));
}

function Editor({ value, onChange, readOnly, errorLines, editorRef }: { value: string; onChange(v: string): void; readOnly: boolean; errorLines: ReadonlySet<number>; editorRef: RefObject<HTMLTextAreaElement | null> }) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = value.split('\n').length;
  const onScroll = (e: UIEvent<HTMLTextAreaElement>): void => {
    if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
  };
  return (
    <div className="editor">
      <div className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => <div key={i} className={errorLines.has(i + 1) ? 'gutter-error' : undefined}>{i + 1}</div>)}
      </div>
      <textarea
        id="policy-text"
        ref={editorRef}
        value={value}
        readOnly={readOnly}
        spellCheck={false}
        wrap="off"
        rows={18}
        aria-describedby="policy-help policy-problems"
        aria-invalid={errorLines.size > 0 ? true : undefined}
        onScroll={onScroll}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

export function Policy() {
  const { api, isAdmin, announce } = useConsole();
  const status = useApi((a) => a.policy(), 'policy');
  const versions = useApi((a) => a.policyVersions(), 'policy-versions');
  const [text, setText] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const [problems, setProblems] = useState<readonly Problem[]>([]);
  const [result, setResult] = useState<{ version: number; warnings: readonly string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);
  const current = status.data?.current ?? null;
  useEffect(() => {
    if (text === null && status.data) setText(status.data.current?.text ?? TEMPLATE);
  }, [status.data, text]);
  const reload = (): void => {
    status.reload();
    versions.reload();
  };
  const push = async (): Promise<void> => {
    if (text === null) return;
    setBusy(true);
    setProblems([]);
    setResult(null);
    try {
      const saved = await api.pushPolicy(text, comment.trim());
      setResult(saved);
      setComment('');
      announce(`Saved and pushed fleet policy version ${saved.version}.`, 'status');
      reload();
    } catch (e) {
      if (e instanceof ApiError && e.body.problems && e.body.problems.length > 0) {
        // The problems region below is itself an alert: one announcement, next to the editor.
        setProblems(e.body.problems.map(problemOf));
      } else {
        announce(`Could not save the policy: ${messageOf(e)}`);
      }
    } finally {
      setBusy(false);
    }
  };
  const goTo = (p: Problem): void => {
    const el = editor.current;
    if (!el || p.line === null || text === null) return;
    const at = offsetOf(text, p.line, p.column);
    el.focus();
    el.setSelectionRange(at, at);
  };
  const load = async (version: number): Promise<void> => {
    try {
      const v = await api.policyVersion(version);
      setText(v.text);
      setProblems([]);
      announce(`Loaded version ${version} into the editor.`, 'status');
      editor.current?.focus();
    } catch (e) {
      announce(`Could not load version ${version}: ${messageOf(e)}`);
    }
  };
  const errorLines = new Set(problems.flatMap((p) => (p.line === null ? [] : [p.line])));
  const dirty = text !== null && text !== (current?.text ?? TEMPLATE);
  return (
    <Page title="Fleet policy">
      <Loaded state={status}>
        {(s) => (
          <div className="grid">
            <Card title="Current version">
              {s.current ? (
                <dl className="facts" data-testid="policy-current">
                  <dt>Version</dt><dd data-testid="policy-current-version">{s.current.version}</dd>
                  <dt>Saved</dt><dd>{formatTime(s.current.updatedAt)}</dd>
                  <dt>Comment</dt><dd>{s.current.comment ?? '—'}</dd>
                  <dt>SHA-256</dt><dd><code title={s.current.sha256}>{short(s.current.sha256, 16)}</code></dd>
                </dl>
              ) : <Empty>No fleet policy is set: devices use only their own and IT-managed policy.</Empty>}
              {isAdmin && s.current ? (
                <ConfirmButton
                  label="Clear fleet policy"
                  danger
                  title="Clear the fleet policy?"
                  confirmLabel="Clear"
                  done="The fleet policy is cleared: devices drop their fleet layer on their next sync."
                  action={() => api.clearPolicy()}
                  onDone={reload}
                >
                  <p>Devices drop the fleet layer of their policy on their next sync. Saved versions stay and can be activated again.</p>
                </ConfirmButton>
              ) : null}
            </Card>
            <Card title="Applied on devices">
              {s.applied.length === 0 ? <Empty>No active devices.</Empty> : (
                <table data-testid="policy-applied">
                  <thead><tr><th scope="col">Version applied</th><th scope="col">Devices</th></tr></thead>
                  <tbody>
                    {s.applied.map((a) => (
                      <tr key={a.version ?? 'none'}>
                        <th scope="row">{a.version === null ? 'none' : a.version}{s.current && a.version === s.current.version ? <> <Badge tone="ok">current</Badge></> : null}</th>
                        <td>{a.devices}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
          </div>
        )}
      </Loaded>
      <Card title={isAdmin ? 'Edit and push' : 'Policy text'} wide>
        <p id="policy-help" className="muted small">
          YAML or JSON, <code>version: 1</code>. The server validates the policy before saving it; a valid one becomes the new current version and devices pick it up on their next sync.
        </p>
        <label htmlFor="policy-text" className="block-label">Policy (YAML or JSON){isAdmin ? '' : ' (read only: viewers cannot change the policy)'}</label>
        {text === null ? <p className="muted" aria-busy="true">Loading…</p> : <Editor value={text} onChange={setText} readOnly={!isAdmin} errorLines={errorLines} editorRef={editor} />}
        <div id="policy-problems" role="alert" data-testid="policy-problems">
          {problems.length > 0 ? (
            <>
              <p className="error"><strong>The policy is not valid; nothing was saved.</strong></p>
              <ul className="problems">
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.line !== null ? <button type="button" className="link" onClick={() => goTo(p)}>Line {p.line}{p.column !== null ? `, column ${p.column}` : ''}</button> : null} {p.message}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
        {result ? (
          <div role="status" data-testid="policy-saved">
            <p><Badge tone="ok">saved</Badge> Version {result.version} is now the fleet policy.</p>
            {result.warnings.length > 0 ? <ul className="problems">{result.warnings.map((w, i) => <li key={i}><Badge tone="warn">warning</Badge> {w}</li>)}</ul> : null}
          </div>
        ) : null}
        {isAdmin ? (
          <div className="form-row">
            <div className="field grow">
              <label htmlFor="policy-comment">Comment (why this change)</label>
              <input id="policy-comment" value={comment} maxLength={1000} onChange={(e) => setComment(e.target.value)} />
            </div>
            <button type="button" className="primary" disabled={busy || text === null} onClick={() => void push()}>{busy ? 'Validating…' : 'Validate & push'}</button>
            <button type="button" disabled={!dirty} onClick={() => { setText(current?.text ?? TEMPLATE); setProblems([]); }}>Discard edits</button>
          </div>
        ) : null}
      </Card>
      <Card title="Versions" wide>
        <Loaded state={versions}>
          {({ items }) => items.length === 0 ? <Empty>No versions saved yet.</Empty> : (
            <table data-testid="policy-versions">
              <thead><tr><th scope="col">Version</th><th scope="col">Saved</th><th scope="col">Comment</th><th scope="col">SHA-256</th><th scope="col">Status</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                {items.map((v) => (
                  <tr key={v.version}>
                    <th scope="row">{v.version}</th>
                    <td>{formatTime(v.createdAt)}</td>
                    <td>{v.comment ?? ''}</td>
                    <td><code title={v.sha256}>{short(v.sha256)}</code></td>
                    <td>{v.current ? <Badge tone="ok">current</Badge> : null}</td>
                    <td className="actions">
                      <button type="button" onClick={() => void load(v.version)} aria-label={`Show version ${v.version} in the editor`}>Show</button>
                      {isAdmin && !v.current ? (
                        <ConfirmButton
                          label="Activate"
                          ariaLabel={`Activate version ${v.version}`}
                          title={`Make version ${v.version} the fleet policy?`}
                          confirmLabel={`Activate version ${v.version}`}
                          done={`Version ${v.version} is now the fleet policy.`}
                          action={() => api.activatePolicyVersion(v.version)}
                          onDone={reload}
                        >
                          <p>Devices switch to this version on their next sync.</p>
                        </ConfirmButton>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Card>
    </Page>
  );
}

/**
 * A button whose action runs only after a confirmation in a modal dialog (<dialog>: focus stays
 * inside, Escape cancels). The outcome is announced; failures never leave the dialog hanging.
 */
import { useRef, useState, type ReactNode } from 'react';
import { useConsole } from '../context.ts';
import { messageOf } from '../format.ts';

export function ConfirmButton(props: {
  label: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  done: string;
  action(): Promise<unknown>;
  onDone?(): void;
  ariaLabel?: string;
}) {
  const { announce } = useConsole();
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const run = async (): Promise<void> => {
    setBusy(true);
    try {
      await props.action();
      dialog.current?.close();
      announce(props.done, 'status');
      props.onDone?.();
    } catch (e) {
      dialog.current?.close();
      announce(messageOf(e), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className={props.danger ? 'danger' : undefined} aria-label={props.ariaLabel} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={dialog} className="confirm" aria-label={props.title}>
        <h2>{props.title}</h2>
        <div>{props.children}</div>
        <div className="actions">
          <button type="button" className={props.danger ? 'danger' : 'primary'} disabled={busy} onClick={() => void run()}>{props.confirmLabel}</button>
          <button type="button" onClick={() => dialog.current?.close()} autoFocus>Cancel</button>
        </div>
      </dialog>
    </>
  );
}

/**
 * The browser implementation of CordonUiClient: JSON calls to the daemon's local console
 * (POST /api/call) and live events over Server-Sent Events (GET /api/events), authenticated by
 * the HttpOnly session cookie the page gets once for the secret in its URL fragment.
 */
import type { CordonEvent } from '../../../app/api/control.ts';
import type { CordonUiClient, UiMethod } from '../../../app/api/uiClient.ts';

/** An error the console API answered with (code from app/api/errors.ts). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

const SECRET_RE = /(?:^#|[?&])s=([A-Za-z0-9_-]{20,200})/;

/**
 * Takes the secret out of the URL fragment (if there is one), removes it from the address bar
 * and history, and exchanges it for the session cookie. Returns false when there was no secret.
 */
export async function establishSession(): Promise<boolean> {
  const match = SECRET_RE.exec(window.location.hash);
  if (!match?.[1]) return false;
  const secret = match[1];
  const rest = window.location.hash.replace(SECRET_RE, '').replace(/^#&/, '#').replace(/^#$/, '');
  window.history.replaceState(null, '', `${window.location.pathname}${rest.startsWith('#/') ? rest : '#/'}`);
  const response = await fetch('/api/session', { method: 'POST', headers: { 'X-Cordon-Secret': secret }, credentials: 'same-origin' });
  if (!response.ok) throw new ApiError('ERR_BAD_REQUEST', 'the console secret was refused: open the console again with `cordon ui`', response.status);
  return true;
}

/** The HTTP client; one EventSource is shared by all listeners and closed when the last leaves. */
export function createHttpClient(): CordonUiClient {
  const listeners = new Set<(event: CordonEvent) => void>();
  let source: EventSource | null = null;
  return {
    async call<M extends UiMethod>(method: M, params: unknown) {
      const response = await fetch('/api/call', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ method, params }),
      });
      let body: { ok?: boolean; value?: unknown; error?: { code?: string; message?: string } };
      try {
        body = (await response.json()) as typeof body;
      } catch {
        throw new ApiError('ERR_INTERNAL', `the console answered ${response.status} without JSON`, response.status);
      }
      if (!response.ok || body.ok !== true) {
        throw new ApiError(body.error?.code ?? 'ERR_INTERNAL', body.error?.message ?? `HTTP ${response.status}`, response.status);
      }
      return body.value as never;
    },
    onEvent(listener) {
      listeners.add(listener);
      if (!source) {
        source = new EventSource('/api/events');
        source.onmessage = (message: MessageEvent<string>) => {
          let event: CordonEvent;
          try {
            event = JSON.parse(message.data) as CordonEvent;
          } catch {
            return;
          }
          for (const l of listeners) l(event);
        };
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}

/** The client the app uses: the Electron preload's bridge when present, otherwise HTTP. */
export function defaultClient(): CordonUiClient {
  const bridge = (window as unknown as { cordon?: CordonUiClient }).cordon;
  return bridge ?? createHttpClient();
}

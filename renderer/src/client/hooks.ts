/**
 * React hooks over the typed client: one call's data with reload, the live event stream, and a
 * ticking clock for countdowns.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ControlParams, ControlResult, CordonEvent } from '../../../app/api/control.ts';
import type { CordonUiClient, UiMethod } from '../../../app/api/uiClient.ts';

export const ClientContext = createContext<CordonUiClient | null>(null);

export function useClient(): CordonUiClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('no Cordon client');
  return client;
}

export type CallState<T> = { readonly data: T | null; readonly error: Error | null; readonly loading: boolean; reload(): void };

/**
 * Calls `method` once, then again whenever an event whose type starts with one of `refreshOn`
 * arrives (debounced) or reload() is called.
 */
export function useCall<M extends UiMethod>(method: M, params: ControlParams<M>, refreshOn: readonly string[] = []): CallState<ControlResult<M>> {
  const client = useClient();
  const [data, setData] = useState<ControlResult<M> | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(params);
  const refreshKey = refreshOn.join(',');
  useEffect(() => {
    let live = true;
    setLoading(true);
    client
      .call(method, JSON.parse(key) as ControlParams<M>)
      .then((value) => {
        if (!live) return;
        setData(value);
        setError(null);
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e : new Error(String(e))))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [client, method, key, tick]);
  useEffect(() => {
    if (!refreshKey) return undefined;
    const prefixes = refreshKey.split(',');
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = client.onEvent((event) => {
      if (!prefixes.some((p) => event.type.startsWith(p))) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => setTick((t) => t + 1), 150);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [client, refreshKey]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** Calls the listener for every live event while the component is mounted. */
export function useEvents(listener: (event: CordonEvent) => void): void {
  const client = useClient();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => client.onEvent((e) => ref.current(e)), [client]);
}

/** The current time, updated every `ms` (countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

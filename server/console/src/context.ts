/**
 * The signed-in console's shared state: the session, its API client, the role, and one place to
 * announce outcomes (errors and confirmations go to live regions in the frame). Hooks over it:
 * one call's data with reload (the CallState shape the shared Loaded component takes) and a
 * cursor pager.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ConsoleSession } from '../../../app/api/fleetConsole.ts';
import type { ConsoleApi } from './api.ts';

export type Announce = (message: string, kind?: 'error' | 'status') => void;

export type ConsoleContextValue = Readonly<{
  session: ConsoleSession;
  api: ConsoleApi;
  isAdmin: boolean;
  announce: Announce;
}>;

export const ConsoleContext = createContext<ConsoleContextValue | null>(null);

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error('no console session');
  return value;
}

/** The same shape as renderer/src/client/hooks.ts CallState, so the shared Loaded component takes it. */
export type CallState<T> = { readonly data: T | null; readonly error: Error | null; readonly loading: boolean; reload(): void };

/**
 * Runs `load` with the API once, and again when `key` changes (the serialized inputs) or reload()
 * is called. Answers that arrive after a newer call started are dropped.
 */
export function useApi<T>(load: (api: ConsoleApi) => Promise<T>, key: string): CallState<T> {
  const { api } = useConsole();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    let live = true;
    setLoading(true);
    loader
      .current(api)
      .then((value) => {
        if (!live) return;
        setData(value);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!live) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        setData(null);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export type Pager = Readonly<{
  cursor: string | undefined;
  /** 1-based page number. */
  page: number;
  next(cursor: string): void;
  previous(): void;
  reset(): void;
}>;

/**
 * Keyset paging: the cursors of the pages before this one, so Previous works without offsets.
 * A new `filterKey` (other filters) starts again at page 1.
 */
export function usePager(filterKey: string): Pager {
  const [state, setState] = useState<{ key: string; stack: readonly string[] }>({ key: filterKey, stack: [] });
  const stack = state.key === filterKey ? state.stack : [];
  const next = useCallback((cursor: string) => setState((s) => ({ key: filterKey, stack: [...(s.key === filterKey ? s.stack : []), cursor] })), [filterKey]);
  const previous = useCallback(() => setState((s) => ({ key: filterKey, stack: s.key === filterKey ? s.stack.slice(0, -1) : [] })), [filterKey]);
  const reset = useCallback(() => setState({ key: filterKey, stack: [] }), [filterKey]);
  return { cursor: stack[stack.length - 1], page: stack.length + 1, next, previous, reset };
}

/** `value`, updated only after it stopped changing for `ms` (search boxes). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

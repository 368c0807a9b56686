/** The shared Loaded view, marked busy (and dimmed) while newer results for changed filters load. */
import type { ReactNode } from 'react';
import { Loaded } from '../../../../renderer/src/components/ui.tsx';
import type { CallState } from '../context.ts';

export function Results<T>({ state, children }: { state: CallState<T>; children: (data: T) => ReactNode }) {
  return (
    <div aria-busy={state.loading} className={state.loading && state.data !== null ? 'refreshing' : undefined}>
      <Loaded state={state}>{children}</Loaded>
    </div>
  );
}

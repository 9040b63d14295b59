import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, SignedOut } from './client.ts';

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  /** read again (after a change) */
  reload: () => void;
}

/**
 * Reads from the API when the page opens and whenever `deps` change; an older
 * answer arriving after a newer request is dropped. A lost session sends the
 * admin to sign in (the app's boundary handles SignedOut).
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const [signedOut, setSignedOut] = useState<SignedOut | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    loadRef.current(controller.signal).then(
      (data) => { if (!controller.signal.aborted) setState({ data, error: null, loading: false }); },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof SignedOut) setSignedOut(error);
        setState((s) => ({ data: s.data, error: error instanceof Error ? error : new Error(String(error)), loading: false }));
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  if (signedOut) throw signedOut;
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Runs a change (a POST, PATCH or DELETE) and keeps its progress and error for the page to show. */
export function useAction<A extends unknown[], R>(act: (...args: A) => Promise<R>) {
  const [state, setState] = useState<{ running: boolean; error: Error | null; result: R | null }>({ running: false, error: null, result: null });
  const [signedOut, setSignedOut] = useState<SignedOut | null>(null);
  if (signedOut) throw signedOut;
  const run = useCallback(async (...args: A): Promise<R | null> => {
    setState({ running: true, error: null, result: null });
    try {
      const result = await act(...args);
      setState({ running: false, error: null, result });
      return result;
    } catch (error) {
      if (error instanceof SignedOut) setSignedOut(error);
      setState({ running: false, error: error instanceof Error ? error : new Error(String(error)), result: null });
      return null;
    }
  }, [act]);
  return { ...state, run };
}

export const isApiError = (e: unknown, code?: string): e is ApiError => e instanceof ApiError && (code === undefined || e.code === code);

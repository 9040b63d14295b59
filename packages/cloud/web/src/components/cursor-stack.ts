import { useEffect, useRef, useState } from 'react';

/**
 * Cursor paging for a list: a stack of the cursors of the pages read so far
 * (the first page has none), so "Previous page" pops and "Next page" pushes
 * the API's nextCursor; `reset` starts again on page 1 (new search or filter).
 *
 * With `headingId`, focus goes to the list's heading after a page change:
 * the button that was pressed may become disabled (the first or the last
 * page), and the reader starts again at the top of the new page.
 */
export function useCursorStack(headingId?: string) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const moved = useRef(false);
  useEffect(() => {
    if (!moved.current || !headingId) return;
    moved.current = false;
    const heading = document.getElementById(headingId);
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }, [stack, headingId]);
  return {
    cursor: stack[stack.length - 1] ?? null,
    page: stack.length - 1,
    next: (cursor: string | null | undefined) => { if (!cursor) return; moved.current = true; setStack((s) => [...s, cursor]); },
    previous: () => { moved.current = true; setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)); },
    reset: () => setStack([null]),
  };
}

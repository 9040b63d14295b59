import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';

export interface MenuItem {
  label: string;
  /** an admin center path to open, or an action to run */
  to?: string;
  onSelect?: () => void;
}

/**
 * A menu button (WAI-ARIA menu button pattern): Enter, Space or Down opens
 * it on the first item, Up on the last; arrows move, Home and End jump,
 * Escape closes it and gives focus back to the button, Tab leaves it.
 */
export function Menu({ label, items }: { label: string; items: MenuItem[] }) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const id = useId();
  const navigate = useNavigate();
  useEffect(() => {
    if (open) (list.current?.querySelectorAll<HTMLElement>('[role="menuitem"]')[active])?.focus();
  }, [open, active]);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!list.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  const openAt = (i: number) => { setActive(i); setOpen(true); };
  const select = (item: MenuItem) => {
    setOpen(false);
    if (item.to) navigate(item.to);
    item.onSelect?.();
  };
  const onButtonKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); openAt(0); }
    if (e.key === 'ArrowUp') { e.preventDefault(); openAt(items.length - 1); }
  };
  const onListKey = (e: KeyboardEvent) => {
    const last = items.length - 1;
    const moves: Record<string, number> = { ArrowDown: active === last ? 0 : active + 1, ArrowUp: active === 0 ? last : active - 1, Home: 0, End: last };
    if (e.key in moves) { e.preventDefault(); setActive(moves[e.key]!); return; }
    if (e.key === 'Escape') { e.preventDefault(); setOpen(false); button.current?.focus(); return; }
    if (e.key === 'Tab') setOpen(false);
  };
  return (
    <div className="menu">
      <button ref={button} type="button" className="button" id={`${id}-button`} aria-haspopup="menu" aria-expanded={open} aria-controls={`${id}-list`}
        onClick={() => (open ? setOpen(false) : openAt(0))} onKeyDown={onButtonKey}>
        {label} <span aria-hidden="true">▾</span>
      </button>
      {open ? (
        <ul ref={list} className="menu-list" role="menu" id={`${id}-list`} aria-labelledby={`${id}-button`} onKeyDown={onListKey}>
          {items.map((item, i) => (
            <li key={item.label} role="none">
              <button type="button" role="menuitem" tabIndex={i === active ? 0 : -1} onClick={() => select(item)}>{item.label}</button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

import { useEffect, useId, useRef, type ReactNode } from 'react';
import { ErrorNotice, Progress } from '../../components/feedback.tsx';

/**
 * A confirmation before a change that cannot simply be taken back: a native
 * modal <dialog> (showModal traps focus and makes the page behind inert).
 * Focus starts on Cancel, the safe choice; Escape cancels unless the change
 * is running; when the dialog closes, focus goes back to what opened it.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, progressLabel, errorTitle, running, error, danger = true, onConfirm, onCancel }: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  progressLabel: string;
  errorTitle: string;
  running: boolean;
  error: Error | null;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const id = useId();
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      d.showModal();
      cancel.current?.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);
  // back to the button that opened it, once closed (by Cancel, Escape or a finished change)
  const onClose = () => {
    const back = opener.current;
    opener.current = null;
    if (back?.isConnected) back.focus();
    if (open) onCancel();
  };
  return (
    <dialog ref={dialog} aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`} onClose={onClose}
      onCancel={(e) => { if (running) e.preventDefault(); }}>
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-body`}>{children}</div>
      <ErrorNotice error={error} title={errorTitle} />
      {running ? <Progress label={progressLabel} /> : null}
      <div className="dialog-actions">
        {/* aria-disabled, not disabled, while the change runs: focus stays on the button pressed */}
        <button ref={cancel} type="button" className="button" aria-disabled={running} onClick={() => { if (!running) onCancel(); }}>Cancel</button>
        <button type="button" className={`button ${danger ? 'button-danger' : 'button-primary'}`} aria-disabled={running} onClick={() => { if (!running) onConfirm(); }}>{confirmLabel}</button>
      </div>
    </dialog>
  );
}

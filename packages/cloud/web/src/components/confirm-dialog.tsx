import { useId, type ReactNode } from 'react';
import { ErrorNotice, Progress } from './feedback.tsx';
import { ModalDialog } from './modal-dialog.tsx';

/**
 * A confirmation before a change that cannot simply be taken back, on
 * ModalDialog: focus starts on Cancel, the safe choice; Escape cancels unless
 * the change is running; the change's progress and error show inside.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, progressLabel, errorTitle, running, error, danger = true, onConfirm, onCancel, focusOnClose }: {
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
  /** moves focus when the dialog closes, answering true (else focus returns to the button that opened it) */
  focusOnClose?: () => boolean;
}) {
  const id = useId();
  return (
    <ModalDialog open={open} title={title} onClose={onCancel} describedBy={`${id}-body`} busy={running} {...(focusOnClose ? { focusOnClose } : {})}>
      <div id={`${id}-body`}>{children}</div>
      <ErrorNotice error={error} title={errorTitle} />
      {running ? <Progress label={progressLabel} /> : null}
      <div className="dialog-actions">
        {/* aria-disabled, not disabled, while the change runs: focus stays on the button pressed */}
        <button type="button" className="button" data-autofocus aria-disabled={running} onClick={() => { if (!running) onCancel(); }}>Cancel</button>
        <button type="button" className={`button ${danger ? 'button-danger' : 'button-primary'}`} aria-disabled={running} onClick={() => { if (!running) onConfirm(); }}>{confirmLabel}</button>
      </div>
    </ModalDialog>
  );
}

import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal dialog on the native <dialog> element: showModal() makes the rest
 * of the page inert and traps focus, Escape closes it, and focus goes back to
 * the element that had it when the dialog opened (the button that opened it).
 * A control marked data-autofocus takes focus when it opens.
 * The dialog is named by its heading (an h2). While `busy`, Escape does not
 * close it (a change is running). `focusOnClose` runs when it closes and
 * answers true when it moved focus itself (the opener is going away, such as
 * a removed row's button); otherwise focus goes back to the opener.
 */
export function ModalDialog({ open, title, onClose, children, className, describedBy, busy = false, focusOnClose }: {
  open: boolean;
  title: string;
  /** the dialog closed (Escape, a Close button, or the page closing it): the owner sets open to false */
  onClose: () => void;
  children: ReactNode;
  className?: string;
  /** the id of the element that describes the dialog */
  describedBy?: string;
  busy?: boolean;
  focusOnClose?: () => boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const focusOnCloseRef = useRef(focusOnClose);
  focusOnCloseRef.current = focusOnClose;
  const id = useId();

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      d.showModal();
      // the control the dialog marks (data-autofocus) takes focus, else the browser's choice (the first control)
      d.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    const closed = () => {
      onCloseRef.current();
      const back = opener.current;
      opener.current = null;
      if (focusOnCloseRef.current?.()) return;
      if (back && back.isConnected) back.focus();
    };
    d.addEventListener('close', closed);
    return () => d.removeEventListener('close', closed);
  }, []);

  return (
    <dialog ref={dialog} aria-labelledby={`${id}-title`} aria-describedby={describedBy} className={className} onCancel={(e) => { if (busy) e.preventDefault(); }}>
      <h2 id={`${id}-title`}>{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

import { useId, useState } from 'react';

/** A value to copy (a command, a token, a DNS record): shown in full, with a Copy button that says when it worked. */
export function CopyField({ label, value, multiline = false }: { label: string; value: string; multiline?: boolean }) {
  const id = useId();
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <div className="copy-field">
      <span className="copy-label" id={`${id}-label`}>{label}</span>
      <div className="copy-row">
        {multiline
          ? <pre className="copy-value" aria-labelledby={`${id}-label`} tabIndex={0}><code>{value}</code></pre>
          : <code className="copy-value" aria-labelledby={`${id}-label`}>{value}</code>}
        <button type="button" className="button" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>Copy</button>
      </div>
      <span className="copy-status" role="status">{copied === 'yes' ? 'Copied.' : copied === 'no' ? 'Copying is blocked here: select the text and copy it.' : ''}</span>
    </div>
  );
}

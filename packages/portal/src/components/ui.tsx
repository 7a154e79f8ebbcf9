// Small shared pieces: lifecycle state badges, error and status messages, a copy-to-clipboard button.
import { useState, type ReactNode } from 'react';

export function StateBadge({ state }: { state: string }) {
  return <span className={`pill state-${state}`}>{state}</span>;
}

export function ErrorMessage({ children }: { children?: ReactNode }) {
  if (children === undefined || children === null || children === '') return null;
  return (
    <p role="alert" className="alert-error">
      {children}
    </p>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <>
      <button
        type="button"
        className="secondary"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setDone(true);
          } catch {
            setDone(false);
          }
        }}
      >
        {label}
      </button>
      <span role="status" className="hint">
        {done ? 'Copied to the clipboard' : ''}
      </span>
    </>
  );
}

export function when(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

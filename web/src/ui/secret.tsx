// A secret shown exactly once (new key, rotated key, webhook signing secret), with a copy button and the warning.
import { useState } from 'react';
import { Modal } from './dialog';
import { Button } from './kit';

export function SecretReveal({ secret, title, note, onClose }: { secret: string | null; title: string; note?: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Modal
      open={secret !== null}
      onOpenChange={(open) => {
        if (!open) {
          setCopied(false);
          onClose();
        }
      }}
      title={title}
      description="Copy it now: it is shown only this once and cannot be retrieved later."
    >
      <div className="space-y-3">
        <div className="flex gap-2">
          <input
            readOnly
            aria-label="Secret"
            data-testid="secret"
            value={secret ?? ''}
            className="w-full rounded-md border border-zinc-300 bg-zinc-50 px-2 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
            onFocus={(e) => e.target.select()}
          />
          <Button
            onClick={async () => {
              await navigator.clipboard.writeText(secret ?? '');
              setCopied(true);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </Button>
        </div>
        <p role="status" className="rounded-md bg-amber-100 px-3 py-2 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-100">
          {note ?? 'Store it in your secret manager. Anyone holding it can act with its scopes.'}
        </p>
        <div className="flex justify-end">
          <Button variant="secondary" onClick={onClose}>
            I have stored it
          </Button>
        </div>
      </div>
    </Modal>
  );
}

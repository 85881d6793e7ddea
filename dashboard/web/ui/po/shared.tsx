/**
 * What the purchase-order components share: one action at a time with its error in words (from
 * the API's error body) and a success line; and a form of one quantity per PO line (ship, count).
 */
import type { PurchaseOrderLine } from '@shelfsense/protocol';
import { useCallback, useState } from 'preact/hooks';
import { poErrorText } from '../../lib/purchase-orders.js';

export interface PoAction {
  busy: string | null;
  error: string | null;
  done: string | null;
  /**
   * Runs `fn` and resolves with its result, showing `said(result)` if given; on failure shows
   * "Could not {doing}: …" and resolves undefined.
   */
  run<T>(name: string, doing: string, fn: () => Promise<T>, said?: (r: T) => string): Promise<T | undefined>;
  clear(): void;
}

export function usePoAction(): PoAction {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = useCallback(
    async <T,>(name: string, doing: string, fn: () => Promise<T>, said?: (r: T) => string) => {
      setBusy(name);
      setError(null);
      setDone(null);
      try {
        const r = await fn();
        if (said) setDone(said(r));
        return r;
      } catch (err) {
        setError(poErrorText(err, doing));
        return undefined;
      } finally {
        setBusy(null);
      }
    },
    [],
  );
  const clear = useCallback(() => {
    setError(null);
    setDone(null);
  }, []);
  return { busy, error, done, run, clear };
}

/** The outcome of the last action: a status line, or an alert. */
export function Outcome({ action }: { action: Pick<PoAction, 'error' | 'done'> }) {
  return (
    <>
      {action.done && (
        <p class="muted" role="status">
          {action.done}
        </p>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </>
  );
}

export interface LineQuantitiesProps {
  /** Unique in the page: prefixes the inputs' ids. */
  id: string;
  title: string;
  lines: readonly PurchaseOrderLine[];
  /** Each line's text, by SKU. */
  values: Readonly<Record<string, string>>;
  errors: Readonly<Record<string, string>>;
  label(line: PurchaseOrderLine): string;
  hint(line: PurchaseOrderLine): string;
  onValue(sku: string, value: string): void;
  submit: string;
  busy: boolean;
  onSubmit(): void;
  onCancel(): void;
}

/** One labelled whole-number input per line, for shipping or counting a PO. */
export function LineQuantities(p: LineQuantitiesProps) {
  return (
    <form
      class="editor po-lines-form"
      aria-label={p.title}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        p.onSubmit();
      }}
    >
      <h4>{p.title}</h4>
      <div class="form-grid">
        {p.lines.map((l) => {
          const id = `${p.id}-${l.sku}`;
          const error = p.errors[l.sku];
          return (
            <div class="field" key={l.sku}>
              <label for={id}>{p.label(l)}</label>
              <input
                id={id}
                type="number"
                inputMode="numeric"
                min={0}
                step={1}
                value={p.values[l.sku] ?? ''}
                aria-invalid={error ? true : undefined}
                aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
                onInput={(e) => p.onValue(l.sku, e.currentTarget.value)}
              />
              <span class="hint" id={`${id}-hint`}>
                {p.hint(l)}
              </span>
              {error && (
                <span class="field-error" id={`${id}-error`}>
                  {error}
                </span>
              )}
            </div>
          );
        })}
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={p.busy} aria-busy={p.busy}>
          {p.submit}
        </button>
        <button type="button" class="secondary" disabled={p.busy} onClick={p.onCancel}>
          Back
        </button>
      </div>
    </form>
  );
}

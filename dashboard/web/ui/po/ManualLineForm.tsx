/**
 * Ordering by hand: site, supplier, one of that supplier's SKUs, a quantity and the reason. The
 * line joins the site's draft for the supplier (a supplier without a schedule gets it at once).
 * Opened from a draft PO, its site and supplier are fixed.
 */
import type { ApiPurchaseOrder, CatalogueView } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import {
  addManualLine,
  type ManualLineForm as Form,
  manualLineBody,
  PO_STATE_LABEL,
  skuOptions,
} from '../../lib/purchase-orders.js';
import { SelectField, TextField } from '../admin/catalogue-ui.js';
import { useApp } from '../hooks.js';
import { Outcome, usePoAction } from './shared.js';

export interface ManualLineProps {
  /** Unique in the page: prefixes the fields' ids. */
  id: string;
  cat: CatalogueView | null;
  fixed?: { site: string; supplier: string };
  onAdded(po: ApiPurchaseOrder): void;
  onCancel?(): void;
}

export function ManualLineForm({ id, cat, fixed, onAdded, onCancel }: ManualLineProps) {
  const { api, user } = useApp();
  const action = usePoAction();
  const sites = user.role === 'admin' ? (cat?.sites.map((s) => s.id) ?? []) : user.sites;
  const suppliers = cat?.suppliers ?? [];
  const first = (supplier: string) => (cat ? (skuOptions(cat, supplier)[0]?.[0] ?? '') : '');
  const initialSupplier = fixed?.supplier ?? suppliers[0]?.id ?? '';
  const [form, setForm] = useState<Form>({
    site: fixed?.site ?? sites[0] ?? '',
    supplier: initialSupplier,
    sku: first(initialSupplier),
    quantity: '',
    reason: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  // The catalogue may arrive after the form: fill in what was still blank.
  const f: Form = {
    ...form,
    site: form.site || (fixed?.site ?? sites[0] ?? ''),
    supplier: form.supplier || initialSupplier,
  };
  const skus = cat ? skuOptions(cat, f.supplier) : [];
  if (!skus.some(([v]) => v === f.sku)) f.sku = skus[0]?.[0] ?? '';
  const set = (k: keyof Form, v: string) =>
    setForm({ ...f, [k]: v, ...(k === 'supplier' ? { sku: first(v) } : {}) });

  const submit = async (e: Event) => {
    e.preventDefault();
    const checked = manualLineBody(f);
    if (!checked.ok) return setErrors(checked.errors);
    setErrors({});
    const po = await action.run(
      'add',
      'add the line',
      () => addManualLine(api, checked.body),
      (p) =>
        `Added ${checked.body.quantity} × ${checked.body.sku} to ${p.id} (${PO_STATE_LABEL[p.state].toLowerCase()}).`,
    );
    if (po) {
      setForm({ ...f, quantity: '', reason: '' });
      onAdded(po);
    }
  };

  const supplierName = (s: { id: string; name: string | null }) => (s.name ? `${s.name} (${s.id})` : s.id);
  return (
    <form
      class="editor"
      aria-label={fixed ? `Add a line to the ${fixed.supplier} order` : 'Order by hand'}
      noValidate
      onSubmit={submit}
    >
      <div class="form-grid">
        {!fixed && (
          <SelectField
            name="site"
            id={`${id}-site`}
            label="Site"
            value={f.site}
            options={sites.map((s) => [s, s] as const)}
            onValue={(v) => set('site', v)}
            errors={errors}
            required
          />
        )}
        {!fixed && (
          <SelectField
            name="supplier"
            id={`${id}-supplier`}
            label="Supplier"
            value={f.supplier}
            options={suppliers.map((s) => [s.id, supplierName(s)] as const)}
            onValue={(v) => set('supplier', v)}
            errors={errors}
            required
          />
        )}
        <SelectField
          name="sku"
          id={`${id}-sku`}
          label="SKU"
          hint={skus.length === 0 ? 'This supplier delivers no SKU.' : undefined}
          value={f.sku}
          options={skus}
          onValue={(v) => set('sku', v)}
          errors={errors}
          required
        />
        <TextField
          name="quantity"
          id={`${id}-quantity`}
          label="Quantity"
          inputMode="numeric"
          value={f.quantity}
          onValue={(v) => set('quantity', v)}
          errors={errors}
          required
        />
      </div>
      <TextField
        name="reason"
        id={`${id}-reason`}
        label="Reason"
        hint="Kept with the line in the audit trail, e.g. a promotion or a shelf the sensors do not cover."
        value={f.reason}
        onValue={(v) => set('reason', v)}
        errors={errors}
        required
      />
      <div class="actions">
        <button
          type="submit"
          class="primary"
          disabled={action.busy !== null || !cat}
          aria-busy={action.busy !== null}
        >
          Add to purchase order
        </button>
        {onCancel && (
          <button type="button" class="secondary" onClick={onCancel}>
            Back
          </button>
        )}
      </div>
      <Outcome action={action} />
    </form>
  );
}

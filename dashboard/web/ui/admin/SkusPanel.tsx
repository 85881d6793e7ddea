/**
 * The SKUs tab: id, name, unit weight and supplier of each SKU. An admin adds, edits and removes
 * them; an operator reads. A SKU's unit weight turns grams into items on every lane holding it.
 */
import { type CatalogueView, SkuView } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { currentAs, paths, type SkuForm, saveObject, skuBody, skuForm } from '../../lib/catalogue.js';
import { useApp } from '../hooks.js';
import {
  EditorForm,
  PanelHead,
  RemoveButton,
  SelectField,
  TextField,
  useCatalogue,
  useEditor,
} from './catalogue-ui.js';

function SkuEditor(props: {
  sku: SkuView | null;
  catalogue: CatalogueView;
  onClose(): void;
  onSaved(): void;
}) {
  const { api } = useApp();
  const creating = props.sku === null;
  const ed = useEditor<SkuForm>({
    initial: skuForm(props.sku),
    revision: props.sku?.revision,
    check: skuBody,
    save: (body, form) => saveObject(api, paths.sku(creating ? form.id.trim() : (props.sku?.id ?? '')), body),
    fromCurrent: (c) => {
      const v = currentAs(SkuView, c);
      return v && { form: skuForm(v), revision: v.revision };
    },
    doing: creating ? 'add SKUs' : 'change SKUs',
    onSaved: props.onSaved,
  });
  const title = creating ? 'New SKU' : `Edit SKU ${props.sku?.id}`;
  const suppliers = props.catalogue.suppliers.map(
    (s) => [s.id, s.name ? `${s.name} (${s.id})` : s.id] as const,
  );
  const f = ed.form;
  return (
    <EditorForm title={title} editor={ed} save={creating ? 'Add SKU' : 'Save SKU'} onCancel={props.onClose}>
      <div class="form-grid">
        <TextField
          name="id"
          id="sku-id"
          label="Id"
          value={f.id}
          onValue={(v) => ed.set('id', v)}
          errors={ed.errors}
          disabled={!creating}
          required
          hint={creating ? 'Letters, digits, _ and -; it cannot change later.' : undefined}
        />
        <TextField
          name="name"
          id="sku-name"
          label="Name"
          value={f.name}
          onValue={(v) => ed.set('name', v)}
          errors={ed.errors}
        />
        <TextField
          name="unitWeightG"
          id="sku-weight"
          label="Unit weight (g)"
          inputMode="decimal"
          value={f.unitWeightG}
          onValue={(v) => ed.set('unitWeightG', v)}
          errors={ed.errors}
          required
        />
        <SelectField
          name="supplier"
          id="sku-supplier"
          label="Supplier"
          value={f.supplier}
          onValue={(v) => ed.set('supplier', v)}
          errors={ed.errors}
          required
          options={[['', 'Choose a supplier'], ...suppliers]}
        />
      </div>
    </EditorForm>
  );
}

export function SkusPanel() {
  const { user } = useApp();
  const res = useCatalogue();
  const [editing, setEditing] = useState<string | null>(null);
  const admin = user.role === 'admin';
  const cat = res.data;
  const supplierName = (id: string) => cat?.suppliers.find((s) => s.id === id)?.name ?? id;
  const saved = () => {
    setEditing(null);
    res.reload();
  };
  const open = editing === null ? null : editing === '' ? null : cat?.skus.find((s) => s.id === editing);
  return (
    <section class="panel catalogue" aria-labelledby="skus-heading">
      <PanelHead id="skus-heading" title="SKUs" res={res}>
        {admin && cat && (
          <button type="button" class="primary" onClick={() => setEditing('')}>
            Add a SKU
          </button>
        )}
      </PanelHead>
      {!admin && <p class="summary">SKUs are managed by an admin; you can read them here.</p>}
      {cat && editing !== null && (open !== undefined || editing === '') && (
        <SkuEditor
          key={editing}
          sku={open ?? null}
          catalogue={cat}
          onClose={() => setEditing(null)}
          onSaved={saved}
        />
      )}
      {cat && cat.skus.length === 0 && <p>No SKUs yet.</p>}
      {cat && cat.skus.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">SKUs</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Unit weight</th>
                <th scope="col">Supplier</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {cat.skus.map((s) => (
                <tr key={s.id}>
                  <th scope="row">{s.id}</th>
                  <td>{s.name ?? '—'}</td>
                  <td>{s.unitWeightG} g</td>
                  <td>{supplierName(s.supplier)}</td>
                  {admin && (
                    <td class="row-actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Edit SKU ${s.id}`}
                        onClick={() => setEditing(s.id)}
                      >
                        Edit
                      </button>
                      <RemoveButton
                        action="Remove"
                        label={`Remove SKU ${s.id}`}
                        title={`Remove SKU ${s.id}?`}
                        path={paths.sku(s.id)}
                        revision={s.revision}
                        doing="remove SKUs"
                        onDone={saved}
                      >
                        <p>
                          {s.name ?? s.id} leaves the catalogue with its SKU policy. A SKU still held by a
                          lane cannot be removed: give the lane another SKU first.
                        </p>
                      </RemoveButton>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

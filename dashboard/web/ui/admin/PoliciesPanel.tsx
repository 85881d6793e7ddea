/**
 * The Policies tab: the replenishment policy defaults, and the overrides per site, per SKU and per
 * lane. A lane's field is its own, else its SKU's, else its site's, else the default (order-up-to
 * falls back to the lane's capacity); each value says which level it comes from, and a blank field
 * in a form inherits. An admin changes everything; an operator the site and lane policies of its
 * sites.
 */
import { type CatalogueView, PolicyViews } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import {
  BOOLEAN_FIELDS,
  currentAs,
  DURATION_FIELDS,
  FIELD_LABELS,
  formatPolicyValue,
  type LaneWhere,
  POLICY_FIELDS,
  type PolicyField,
  type PolicyForm,
  type PolicyTarget,
  paths,
  policyAt,
  policyBody,
  policyForm,
  type Resolved,
  resolveDefaults,
  resolvePolicy,
  SOURCE_TEXT,
  saveObject,
} from '../../lib/catalogue.js';
import { laneName } from '../../lib/format.js';
import { useApp } from '../hooks.js';
import {
  atSite,
  EditorForm,
  PanelHead,
  RemoveButton,
  SelectField,
  TextField,
  useCatalogue,
  useEditor,
} from './catalogue-ui.js';

type PolicyRow = PolicyViews['defaults'];
const PolicyRowSchema = PolicyViews.shape.defaults;

/** The columns of the lane table; every field is in the lane's form. */
const LANE_COLUMNS: readonly PolicyField[] = [
  'reorderPoint',
  'orderUpTo',
  'packSize',
  'debounceMs',
  'enabled',
];

function targetName(t: PolicyTarget): string {
  if (t.level === 'defaults') return 'the defaults';
  if (t.level === 'site') return `site ${t.site}`;
  if (t.level === 'sku') return `SKU ${t.sku}`;
  return laneName(t);
}

function inheritText(f: PolicyField, r: Resolved | undefined): string {
  if (!r || r.from === null) return 'Blank: not set.';
  const v = formatPolicyValue(f, r.value);
  return `Blank: inherits ${typeof r.value === 'boolean' ? `“${v}”` : v} from ${SOURCE_TEXT[r.from]}.`;
}

function PolicyEditor(props: {
  target: PolicyTarget;
  row: PolicyRow | undefined;
  /** What each blank field inherits; null for the defaults (blank: the built-in default). */
  inherited: Record<PolicyField, Resolved> | null;
  onClose(): void;
  onSaved(): void;
}) {
  const { api } = useApp();
  const { target } = props;
  const ed = useEditor<PolicyForm>({
    initial: policyForm(props.row),
    revision: props.row?.revision,
    check: policyBody,
    save: (body) => saveObject(api, paths.policy(target), body),
    fromCurrent: (c) => {
      const v = currentAs(PolicyRowSchema, c);
      return v && { form: policyForm(v), revision: v.revision };
    },
    doing: `change the policy of ${targetName(target)}`,
    onSaved: props.onSaved,
  });
  const title = `Policy of ${targetName(target)}`;
  const hint = (f: PolicyField) => {
    const base = props.inherited ? inheritText(f, props.inherited[f]) : 'Blank: the built-in default.';
    return DURATION_FIELDS.has(f) ? `${base} A duration such as 90s, 5m, 2d, or milliseconds.` : base;
  };
  return (
    <EditorForm title={title} editor={ed} save="Save policy" onCancel={props.onClose}>
      <p class="summary">Leave a field blank to inherit it.</p>
      <div class="form-grid">
        {POLICY_FIELDS.map((f) =>
          BOOLEAN_FIELDS.has(f) ? (
            <SelectField
              key={f}
              name={f}
              id={`policy-${f}`}
              label={FIELD_LABELS[f] ?? f}
              value={ed.form[f]}
              onValue={(v) => ed.set(f, v)}
              errors={ed.errors}
              hint={hint(f)}
              options={[
                ['', 'Inherit'],
                ['true', 'Yes'],
                ['false', 'No'],
              ]}
            />
          ) : (
            <TextField
              key={f}
              name={f}
              id={`policy-${f}`}
              label={FIELD_LABELS[f] ?? f}
              inputMode={DURATION_FIELDS.has(f) ? 'text' : 'numeric'}
              value={ed.form[f]}
              onValue={(v) => ed.set(f, v)}
              errors={ed.errors}
              hint={hint(f)}
            />
          ),
        )}
      </div>
    </EditorForm>
  );
}

/** "Reorder point 6 · Pack size 12": the fields a level sets itself. */
function ownFields(row: PolicyRow): string {
  const set = POLICY_FIELDS.filter((f) => row[f] !== undefined);
  if (set.length === 0) return 'nothing set: inherits every field';
  return set.map((f) => `${FIELD_LABELS[f]} ${formatPolicyValue(f, row[f] ?? null)}`).join(' · ');
}

function Value({ f, r }: { f: PolicyField; r: Resolved }) {
  return (
    <>
      {formatPolicyValue(f, r.value)}
      {r.from && <span class={`from from-${r.from}`}> {SOURCE_TEXT[r.from]}</span>}
    </>
  );
}

function lanesOf(cat: CatalogueView): LaneWhere[] {
  return cat.sites.flatMap((s) =>
    s.shelves.flatMap((h) =>
      h.lanes.map((l) => ({ site: s.id, shelf: h.id, lane: l.id, sku: l.sku, capacity: l.capacity })),
    ),
  );
}

/** Per site or per SKU: the overrides there are, and a picker to add one. */
function OverrideList(props: {
  level: 'site' | 'sku';
  cat: CatalogueView;
  mayChange(key: string): boolean;
  editing: string | null;
  setEditing(key: string | null): void;
  onSaved(): void;
}) {
  const { level, cat } = props;
  const rows = level === 'site' ? cat.policies.sites : cat.policies.skus;
  const keyOf = (r: (typeof rows)[number]) => ('site' in r ? r.site : r.sku);
  const all = level === 'site' ? cat.sites.map((s) => s.id) : cat.skus.map((s) => s.id);
  const free = all.filter((k) => props.mayChange(k) && !rows.some((r) => keyOf(r) === k));
  const [picked, setPick] = useState('');
  // Once its policy exists, a picked key leaves the list.
  const pick = free.includes(picked) ? picked : '';
  const noun = level === 'site' ? 'site' : 'SKU';
  const target = (k: string): PolicyTarget => (level === 'site' ? { level, site: k } : { level, sku: k });
  const inherited = resolveDefaults(cat.policies);
  const editor = (k: string, row: PolicyRow | undefined) => (
    <PolicyEditor
      key={k}
      target={target(k)}
      row={row}
      inherited={inherited}
      onClose={() => props.setEditing(null)}
      onSaved={props.onSaved}
    />
  );
  const heading = level === 'site' ? 'Per site' : 'Per SKU';
  return (
    <section class="site" aria-labelledby={`policies-${level}`}>
      <h3 id={`policies-${level}`}>{heading}</h3>
      <p class="summary">
        {level === 'site'
          ? 'Between the defaults and a SKU’s policy: a SKU’s field beats its site’s.'
          : 'Above the site and the defaults, for every lane holding the SKU.'}
      </p>
      {rows.length === 0 && <p class="muted">No {noun} policies.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{heading} policies</caption>
            <thead>
              <tr>
                <th scope="col">{noun}</th>
                <th scope="col">Sets</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const k = keyOf(r);
                return (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>{ownFields(r)}</td>
                    <td class="row-actions">
                      {props.mayChange(k) && (
                        <>
                          <button
                            type="button"
                            class="secondary"
                            aria-label={`Edit policy of ${noun} ${k}`}
                            onClick={() => props.setEditing(`${level}:${k}`)}
                          >
                            Edit
                          </button>
                          <RemoveButton
                            action="Remove"
                            label={`Remove policy of ${noun} ${k}`}
                            title={`Remove the policy of ${noun} ${k}?`}
                            path={paths.policy(target(k))}
                            revision={r.revision}
                            doing={`remove ${noun} policies`}
                            onDone={props.onSaved}
                          >
                            <p>Every field it sets is inherited again.</p>
                          </RemoveButton>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {rows.map((r) => props.editing === `${level}:${keyOf(r)}` && editor(keyOf(r), r))}
      {free.length > 0 &&
        (props.editing === `${level}:+${pick}` && pick ? (
          editor(pick, undefined)
        ) : (
          <div class="actions">
            <div class="field inline">
              <label for={`policy-new-${level}`}>Add a policy for {noun}</label>
              <select
                id={`policy-new-${level}`}
                value={pick}
                onChange={(e) => setPick(e.currentTarget.value)}
              >
                <option value="">Choose…</option>
                {free.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </div>
            <button
              type="button"
              class="secondary"
              disabled={!pick}
              onClick={() => props.setEditing(`${level}:+${pick}`)}
            >
              Add
            </button>
          </div>
        ))}
    </section>
  );
}

export function PoliciesPanel() {
  const { user } = useApp();
  const res = useCatalogue();
  const [editing, setEditing] = useState<string | null>(null);
  const cat = res.data;
  const admin = user.role === 'admin';
  const saved = () => {
    setEditing(null);
    res.reload();
  };
  const close = () => setEditing(null);
  return (
    <section class="panel catalogue" aria-labelledby="policies-heading">
      <PanelHead id="policies-heading" title="Replenishment policies" res={res} />
      <p class="summary">
        A lane’s field is its own, else its SKU’s, else its site’s, else the default; order-up-to falls back
        to the lane’s capacity.
      </p>
      {cat && (
        <>
          <section class="site" aria-labelledby="policies-defaults">
            <div class="panel-head">
              <h3 id="policies-defaults">Defaults</h3>
              {admin && editing !== 'defaults' && (
                <button type="button" class="secondary" onClick={() => setEditing('defaults')}>
                  Edit defaults
                </button>
              )}
            </div>
            {editing === 'defaults' ? (
              <PolicyEditor
                key="defaults"
                target={{ level: 'defaults' }}
                row={cat.policies.defaults}
                inherited={null}
                onClose={close}
                onSaved={saved}
              />
            ) : (
              <dl class="facts policy-facts">
                {POLICY_FIELDS.map((f) => (
                  <div key={f}>
                    <dt>{FIELD_LABELS[f]}</dt>
                    <dd>{formatPolicyValue(f, cat.policies.defaults[f] ?? null)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </section>
          <OverrideList
            level="site"
            cat={cat}
            mayChange={(site) => atSite(user, ['operator'], site)}
            editing={editing}
            setEditing={setEditing}
            onSaved={saved}
          />
          <OverrideList
            level="sku"
            cat={cat}
            mayChange={() => admin}
            editing={editing}
            setEditing={setEditing}
            onSaved={saved}
          />
          <LanePolicies cat={cat} editing={editing} setEditing={setEditing} onSaved={saved} />
        </>
      )}
    </section>
  );
}

function LanePolicies(props: {
  cat: CatalogueView;
  editing: string | null;
  setEditing(key: string | null): void;
  onSaved(): void;
}) {
  const { user } = useApp();
  const { cat } = props;
  const lanes = lanesOf(cat);
  const open = lanes.find((l) => props.editing === `lane:${laneName(l)}`);
  return (
    <section class="site" aria-labelledby="policies-lanes">
      <h3 id="policies-lanes">Per lane: the policy in force</h3>
      {lanes.length === 0 && <p class="muted">No lanes.</p>}
      {lanes.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">
              The policy in force per lane, and where each value comes from
            </caption>
            <thead>
              <tr>
                <th scope="col">Lane</th>
                <th scope="col">SKU</th>
                {LANE_COLUMNS.map((f) => (
                  <th key={f} scope="col">
                    {FIELD_LABELS[f]}
                  </th>
                ))}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {lanes.map((l) => {
                const name = laneName(l);
                const r = resolvePolicy(cat.policies, l);
                const own = policyAt(cat.policies, { level: 'lane', ...l });
                const may = atSite(user, ['operator'], l.site);
                return (
                  <tr key={name} class={props.editing === `lane:${name}` ? 'selected-lane' : undefined}>
                    <th scope="row">{name}</th>
                    <td>{l.sku}</td>
                    {LANE_COLUMNS.map((f) => (
                      <td key={f}>
                        <Value f={f} r={r[f]} />
                      </td>
                    ))}
                    <td class="row-actions">
                      {may && (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Edit policy of ${name}`}
                          onClick={() => props.setEditing(`lane:${name}`)}
                        >
                          Edit policy
                        </button>
                      )}
                      {may && own && (
                        <RemoveButton
                          action="Clear"
                          label={`Clear the lane policy of ${name}`}
                          title={`Clear the lane policy of ${name}?`}
                          path={paths.policy({ level: 'lane', ...l })}
                          revision={own.revision}
                          doing="change lane policies here"
                          onDone={props.onSaved}
                        >
                          <p>The lane inherits every field again from its SKU, site and the defaults.</p>
                        </RemoveButton>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {open && (
        <PolicyEditor
          key={laneName(open)}
          target={{ level: 'lane', site: open.site, shelf: open.shelf, lane: open.lane }}
          row={policyAt(cat.policies, { level: 'lane', ...open })}
          inherited={resolvePolicy(cat.policies, open, 'lane')}
          onClose={() => props.setEditing(null)}
          onSaved={props.onSaved}
        />
      )}
    </section>
  );
}

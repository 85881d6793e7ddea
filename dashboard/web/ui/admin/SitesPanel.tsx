/**
 * The Sites & shelves tab: each site, its shelves (serial, agent) and their planogram (lanes with
 * channels, SKU and capacity). An admin adds, renames and removes sites; an admin or an operator
 * of the site edits lanes; an admin or a technician of the site edits a shelf's serial and agent
 * and decommissions it. New shelves are onboarded in the Unassigned shelves tab.
 */
import { type CatalogueView, LaneView, ShelfView, SiteView } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import {
  currentAs,
  type LaneForm,
  laneBody,
  laneForm,
  paths,
  type ShelfForm,
  type SiteForm,
  saveObject,
  shelfBody,
  shelfForm,
  siteBody,
  siteForm,
} from '../../lib/catalogue.js';
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

interface Done {
  onClose(): void;
  onSaved(): void;
}

function SiteEditor({ site, onClose, onSaved }: Done & { site: SiteView | null }) {
  const { api } = useApp();
  const creating = site === null;
  const ed = useEditor<SiteForm>({
    initial: siteForm(site),
    revision: site?.revision,
    check: siteBody,
    save: (body, f) => saveObject(api, paths.site(creating ? f.id.trim() : site.id), body),
    fromCurrent: (c) => {
      const v = currentAs(SiteView, c);
      return v && { form: siteForm(v), revision: v.revision };
    },
    doing: creating ? 'add sites' : 'rename sites',
    onSaved,
  });
  const title = creating ? 'New site' : `Rename site ${site.id}`;
  return (
    <EditorForm title={title} editor={ed} save={creating ? 'Add site' : 'Save site'} onCancel={onClose}>
      <div class="form-grid">
        <TextField
          name="id"
          id="site-id"
          label="Id"
          value={ed.form.id}
          onValue={(v) => ed.set('id', v)}
          errors={ed.errors}
          disabled={!creating}
          required
        />
        <TextField
          name="name"
          id="site-name"
          label="Name"
          value={ed.form.name}
          onValue={(v) => ed.set('name', v)}
          errors={ed.errors}
        />
      </div>
    </EditorForm>
  );
}

function ShelfEditor({ site, shelf, onClose, onSaved }: Done & { site: string; shelf: ShelfView }) {
  const { api } = useApp();
  const ed = useEditor<ShelfForm>({
    initial: shelfForm(shelf),
    revision: shelf.revision,
    check: (f, rev) => shelfBody(f, rev ?? shelf.revision),
    save: (body) => saveObject(api, paths.shelf(site, shelf.id), body),
    fromCurrent: (c) => {
      const v = currentAs(ShelfView, c);
      return v && { form: shelfForm(v), revision: v.revision };
    },
    doing: 'change this shelf',
    onSaved,
  });
  const title = `Edit shelf ${shelf.id}`;
  return (
    <EditorForm title={title} editor={ed} save="Save shelf" onCancel={onClose}>
      <p class="summary">
        A new serial is for a replaced controller board; the agent is the Pi it is plugged into.
      </p>
      <div class="form-grid">
        <TextField
          name="serial"
          id="shelf-serial"
          label="Serial"
          value={ed.form.serial}
          onValue={(v) => ed.set('serial', v)}
          errors={ed.errors}
          required
        />
        <TextField
          name="agent"
          id="shelf-agent"
          label="Agent"
          value={ed.form.agent}
          onValue={(v) => ed.set('agent', v)}
          errors={ed.errors}
          required
        />
      </div>
    </EditorForm>
  );
}

function LaneEditor(
  props: Done & { site: string; shelf: string; lane: LaneView | null; catalogue: CatalogueView },
) {
  const { api } = useApp();
  const { site, shelf, lane } = props;
  const creating = lane === null;
  const ed = useEditor<LaneForm>({
    initial: laneForm(lane),
    revision: lane?.revision,
    check: laneBody,
    save: (body, f) => saveObject(api, paths.lane(site, shelf, creating ? f.id.trim() : lane.id), body),
    fromCurrent: (c) => {
      const v = currentAs(LaneView, c);
      return v && { form: laneForm(v), revision: v.revision };
    },
    doing: creating ? 'add lanes here' : 'change lanes here',
    onSaved: props.onSaved,
  });
  const title = creating ? `New lane on ${shelf}` : `Edit lane ${site} · ${shelf} · ${lane.id}`;
  const skus = props.catalogue.skus.map((s) => [s.id, s.name ? `${s.name} (${s.id})` : s.id] as const);
  return (
    <EditorForm title={title} editor={ed} save={creating ? 'Add lane' : 'Save lane'} onCancel={props.onClose}>
      <div class="form-grid">
        <TextField
          name="id"
          id="lane-id"
          label="Lane id"
          value={ed.form.id}
          onValue={(v) => ed.set('id', v)}
          errors={ed.errors}
          disabled={!creating}
          required
        />
        <TextField
          name="channels"
          id="lane-channels"
          label="Channels"
          hint="Load-cell channels 0–7, comma-separated; each in one lane per shelf."
          value={ed.form.channels}
          onValue={(v) => ed.set('channels', v)}
          errors={ed.errors}
          required
        />
        <SelectField
          name="sku"
          id="lane-sku"
          label="SKU"
          value={ed.form.sku}
          onValue={(v) => ed.set('sku', v)}
          errors={ed.errors}
          required
          options={[['', 'Choose a SKU'], ...skus]}
        />
        <TextField
          name="capacity"
          id="lane-capacity"
          label="Capacity (items)"
          inputMode="numeric"
          hint="Blank: unknown."
          value={ed.form.capacity}
          onValue={(v) => ed.set('capacity', v)}
          errors={ed.errors}
        />
      </div>
    </EditorForm>
  );
}

/** Opens the Unassigned shelves tab of the admin view, when the role has it. */
function OnboardingHint({ canOnboard }: { canOnboard: boolean }) {
  if (!canOnboard)
    return (
      <p class="summary">New shelves are added by an admin or a technician, in the Unassigned shelves tab.</p>
    );
  return (
    <p class="summary">
      New shelves are added and assigned to a site in the{' '}
      <button
        type="button"
        class="link-button"
        onClick={() => document.getElementById('tab-onboarding')?.click()}
      >
        Unassigned shelves
      </button>{' '}
      tab.
    </p>
  );
}

export function SitesPanel() {
  const { user } = useApp();
  const res = useCatalogue();
  const [editing, setEditing] = useState<string | null>(null);
  const cat = res.data;
  const admin = user.role === 'admin';
  const saved = () => {
    setEditing(null);
    res.reload();
  };
  const done = { onClose: () => setEditing(null), onSaved: saved };
  const skuName = (id: string) => cat?.skus.find((s) => s.id === id)?.name ?? id;

  return (
    <section class="panel catalogue" aria-labelledby="sites-heading">
      <PanelHead id="sites-heading" title="Sites & shelves" res={res}>
        {admin && cat && (
          <button type="button" class="primary" onClick={() => setEditing('site:')}>
            Add a site
          </button>
        )}
      </PanelHead>
      <OnboardingHint canOnboard={admin || user.role === 'technician'} />
      {cat && editing === 'site:' && <SiteEditor key="new" site={null} {...done} />}
      {cat && cat.sites.length === 0 && <p>No sites yet.</p>}
      {cat?.sites.map((site) => {
        const lanesHere = atSite(user, ['operator'], site.id);
        const shelvesHere = atSite(user, ['technician'], site.id);
        return (
          <section key={site.id} class="site" aria-labelledby={`site-${site.id}`}>
            <div class="panel-head">
              <h3 id={`site-${site.id}`}>
                {site.name ?? site.id} <span class="muted">({site.id})</span>
              </h3>
              {admin && (
                <div class="actions tight">
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Rename site ${site.id}`}
                    onClick={() => setEditing(`site:${site.id}`)}
                  >
                    Rename
                  </button>
                  <RemoveButton
                    action="Remove"
                    label={`Remove site ${site.id}`}
                    title={`Remove site ${site.id}?`}
                    path={paths.site(site.id)}
                    revision={site.revision}
                    doing="remove sites"
                    onDone={saved}
                  >
                    <p>
                      The site leaves the catalogue with its {site.shelves.length} shelves and their lanes;
                      open orders on them are cancelled. Their history and calibration records are kept.
                    </p>
                  </RemoveButton>
                </div>
              )}
            </div>
            {editing === `site:${site.id}` && <SiteEditor key={site.id} site={site} {...done} />}
            {site.shelves.length === 0 && <p class="muted">No shelves at this site yet.</p>}
            {site.shelves.map((shelf) => (
              <div key={shelf.id} class="shelf">
                <div class="panel-head">
                  <h4 id={`shelf-${site.id}-${shelf.id}`}>Shelf {shelf.id}</h4>
                  <span class="muted">
                    serial {shelf.serial} · agent {shelf.agent}
                  </span>
                  {shelvesHere && (
                    <div class="actions tight">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Edit shelf ${shelf.id}`}
                        onClick={() => setEditing(`shelf:${site.id}/${shelf.id}`)}
                      >
                        Edit serial / agent
                      </button>
                      <RemoveButton
                        action="Decommission"
                        label={`Decommission shelf ${shelf.id}`}
                        title={`Decommission shelf ${shelf.id}?`}
                        path={paths.shelf(site.id, shelf.id)}
                        revision={shelf.revision}
                        doing="decommission shelves here"
                        onDone={saved}
                      >
                        <p>
                          Shelf {shelf.id} (serial {shelf.serial}) and its {shelf.lanes.length} lanes leave
                          the planogram; open orders on them are cancelled.
                        </p>
                        <p>
                          <strong>Its history and calibration records are kept.</strong>
                        </p>
                      </RemoveButton>
                    </div>
                  )}
                </div>
                {editing === `shelf:${site.id}/${shelf.id}` && (
                  <ShelfEditor key={shelf.id} site={site.id} shelf={shelf} {...done} />
                )}
                <div class="table-wrap">
                  <table>
                    <caption>Planogram of {shelf.id}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Lane</th>
                        <th scope="col">Channels</th>
                        <th scope="col">SKU</th>
                        <th scope="col">Capacity</th>
                        {lanesHere && <th scope="col">Actions</th>}
                      </tr>
                    </thead>
                    <tbody>
                      {shelf.lanes.map((lane) => (
                        <tr key={lane.id}>
                          <th scope="row">{lane.id}</th>
                          <td>{lane.channels.join(', ')}</td>
                          <td>
                            {skuName(lane.sku)} <span class="muted">({lane.sku})</span>
                          </td>
                          <td>{lane.capacity ?? '—'}</td>
                          {lanesHere && (
                            <td class="row-actions">
                              <button
                                type="button"
                                class="secondary"
                                aria-label={`Edit lane ${site.id} · ${shelf.id} · ${lane.id}`}
                                onClick={() => setEditing(`lane:${site.id}/${shelf.id}/${lane.id}`)}
                              >
                                Edit
                              </button>
                              <RemoveButton
                                action="Remove"
                                label={`Remove lane ${site.id} · ${shelf.id} · ${lane.id}`}
                                title={`Remove lane ${lane.id} of ${shelf.id}?`}
                                path={paths.lane(site.id, shelf.id, lane.id)}
                                revision={lane.revision}
                                doing="remove lanes here"
                                onDone={saved}
                              >
                                <p>
                                  The lane leaves the planogram and an open order on it is cancelled; its
                                  history is kept.
                                </p>
                              </RemoveButton>
                            </td>
                          )}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                {shelf.lanes.map(
                  (lane) =>
                    editing === `lane:${site.id}/${shelf.id}/${lane.id}` && (
                      <LaneEditor
                        key={lane.id}
                        site={site.id}
                        shelf={shelf.id}
                        lane={lane}
                        catalogue={cat}
                        {...done}
                      />
                    ),
                )}
                {lanesHere && editing === `lane:${site.id}/${shelf.id}/` && (
                  <LaneEditor
                    key="new"
                    site={site.id}
                    shelf={shelf.id}
                    lane={null}
                    catalogue={cat}
                    {...done}
                  />
                )}
                {lanesHere && editing !== `lane:${site.id}/${shelf.id}/` && (
                  <div class="actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Add a lane to ${shelf.id}`}
                      onClick={() => setEditing(`lane:${site.id}/${shelf.id}/`)}
                    >
                      Add a lane
                    </button>
                  </div>
                )}
              </div>
            ))}
          </section>
        );
      })}
    </section>
  );
}

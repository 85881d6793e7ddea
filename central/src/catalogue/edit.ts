/**
 * One object of the catalogue changed at a time — what the HTTP API and the dashboard do. The
 * change is checked against the revision the person read (the version in which the object last
 * changed): a stale one is refused with the object as it is now, so two people editing at once
 * never overwrite each other unseen. The result is validated as a whole catalogue and with the
 * process settings, then applied like any other version: one transaction, its effects on open
 * orders, its audit rows.
 */
import {
  type Catalogue,
  type CentralConfig,
  catalogueOf,
  ErrorCodes,
  type Issue,
  isShelfError,
  ShelfError,
  withCatalogue,
} from '@shelfsense/protocol';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../store/errors.js';
import type { CentralStore } from '../store/repositories.js';
import { type AppliedCatalogue, applyCatalogue } from './apply.js';
import { type ChangeWhat, catalogueObjects } from './diff.js';
import { ensureCatalogue } from './seed.js';

type Path = (string | number)[];

/** A refused edit: the object changed since it was read, or exists already. `current` is it now. */
export class CatalogueConflictError extends ReplenishmentError {
  constructor(
    message: string,
    readonly current: unknown,
  ) {
    super(ReplenishmentErrorCodes.CONFLICT, message);
    this.name = 'CatalogueConflictError';
  }
}

export interface ObjectEdit {
  what: ChangeWhat;
  /** As changes name it: `store-1/shelf-a/L0`, `sku cola-330`, `defaults`. */
  id: string;
  op: 'put' | 'delete';
  /** The revision read; undefined creates (refused when the object exists). */
  revision: number | undefined;
  /**
   * Changes `draft` in place; returns where the object sits in it (`['sites', 0, 'shelves', 1]`),
   * so an issue inside it is named by the body's field.
   */
  change(draft: Catalogue): Path;
}

export interface EditOptions {
  actor: string;
  role: string;
  now?: number;
  /** The object as a person reads it, for a conflict's answer; null when absent. */
  view(catalogue: Catalogue, version: number): unknown;
}

export interface EditedCatalogue extends AppliedCatalogue {
  /** The catalogue in force after the edit. */
  catalogue: Catalogue;
}

/** Applies one object's change; throws CONFLICT (stale or exists), NOT_FOUND or INVALID. */
export function editCatalogue(
  store: CentralStore,
  config: CentralConfig,
  edit: ObjectEdit,
  options: EditOptions,
): EditedCatalogue {
  return store.transaction((): EditedCatalogue => {
    const current = ensureCatalogue(store, config);
    const exists = catalogueObjects(current.catalogue).get(edit.what)?.has(edit.id) ?? false;
    const label = `${edit.what} ${edit.id}`;
    if (edit.revision === undefined) {
      if (edit.op === 'delete') throw invalidRevision();
      if (exists) {
        throw new CatalogueConflictError(
          `${label} exists already: read it and send its revision to change it`,
          options.view(current.catalogue, current.version),
        );
      }
    } else {
      if (!exists) throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no ${label}`);
      const revision = store.catalogue.revision(edit.what, edit.id);
      if (revision !== edit.revision) {
        throw new CatalogueConflictError(
          `${label} changed since it was read (revision ${edit.revision}, now ${revision}): reload it`,
          options.view(current.catalogue, current.version),
        );
      }
    }
    const draft = structuredClone(current.catalogue) as Catalogue;
    const at = edit.change(draft);
    let next: Catalogue;
    try {
      // The process settings must still agree (a supplier grant names a supplier): check both.
      next = catalogueOf(withCatalogue(config, draft));
    } catch (err) {
      if (isShelfError(err, ErrorCodes.INVALID)) throw relative(err, at);
      throw err;
    }
    const applied = applyCatalogue(store, config, next, {
      actor: options.actor,
      role: options.role,
      now: options.now,
    });
    return { ...applied, catalogue: next };
  });
}

function invalidRevision(): ShelfError {
  return new ShelfError(ErrorCodes.INVALID, 'invalid request: revision: the revision read is required', [
    { path: 'revision', message: 'the revision read is required' },
  ]);
}

/** Issues inside the edited object named by its own fields (`sku`), others by their full path. */
function relative(err: ShelfError, at: Path): ShelfError {
  const prefix = at.join('.');
  const issues: Issue[] = err.issues.map((i) => {
    const path = i.path.startsWith(`${prefix}.`) ? i.path.slice(prefix.length + 1) : i.path;
    return { path, message: i.message };
  });
  const text = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
  return new ShelfError(ErrorCodes.INVALID, `invalid change: ${text}`, issues);
}

/**
 * The catalogue the central runs with: the store's newest version, seeded from central.yaml when
 * the store has none. From then on central.yaml's copy is not used; a difference is reported.
 */
import type { Catalogue } from '@shelfsense/protocol';
import { catalogueOf } from '@shelfsense/protocol';
import { diffCatalogues } from '../catalogue/diff.js';
import { ensureCatalogue } from '../catalogue/seed.js';
import type { Part } from '../service/part.js';

export function cataloguePart(use: (catalogue: Catalogue, version: number) => void): Part {
  return {
    name: 'catalogue',
    start(ctx) {
      const { version, catalogue, seeded } = ensureCatalogue(ctx.store, ctx.config);
      if (seeded) ctx.log.info({ version }, 'catalogue seeded from the config');
      else {
        const changes = diffCatalogues(catalogue, catalogueOf(ctx.config));
        if (changes.length > 0)
          ctx.log.warn(
            { version, changes: changes.length },
            'the config’s catalogue differs from the store’s, which is used: see it with `shelfsense config export`, change it with `shelfsense config apply`',
          );
      }
      use(catalogue, version);
    },
    stop() {},
  };
}

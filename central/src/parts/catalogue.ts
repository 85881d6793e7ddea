/**
 * The catalogue the central runs with: the store's newest version, seeded from central.yaml when
 * the store has none. From then on central.yaml's copy is not used; a difference is reported.
 */
import type { Catalogue, CentralConfig } from '@shelfsense/protocol';
import { catalogueOf } from '@shelfsense/protocol';
import { diffCatalogues } from '../catalogue/diff.js';
import { ensureCatalogue } from '../catalogue/seed.js';
import type { Part } from '../service/part.js';

/** How often a running central looks for a newer catalogue version (a 5 µs query). */
export const CATALOGUE_POLL_MS = 250;

export function cataloguePart(
  use: (catalogue: Catalogue, version: number) => void,
  reload: (version: number) => Promise<void>,
  config: () => CentralConfig,
): Part {
  let timer: NodeJS.Timeout | null = null;
  let pending: Promise<void> | null = null;
  let running = 0;
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
      running = version;
      /** Takes up a newer version if there is one; one reload at a time, a caller waits for it. */
      const check = async (): Promise<void> => {
        while (pending) await pending;
        let latest: number;
        try {
          latest = ctx.store.catalogue.version();
        } catch (err) {
          ctx.log.warn({ err: (err as Error).message }, 'catalogue version unreadable');
          return;
        }
        if (latest <= running) return;
        pending = reload(latest)
          .then(() => {
            running = latest;
          })
          .catch((err: Error) =>
            ctx.log.error({ err: err.message, version: latest }, 'catalogue not applied'),
          )
          .finally(() => {
            pending = null;
          });
        await pending;
      };
      // A version applied meanwhile (`shelfsense config apply`, another central) is taken up live;
      // one applied through this process's API is taken up at once.
      timer = setInterval(() => {
        if (!pending) void check();
      }, CATALOGUE_POLL_MS);
      timer.unref();
      ctx.services.catalogue = { config, reload: check };
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

/**
 * Runs each project's slowest test files first, so that on two workers a minute-long file does not
 * start last and run on alone at the end (longest first keeps the run short). The durations are
 * the ones `npm test` last measured (tests/setup/durations.json, refreshed with
 * `node scripts/test-durations.mjs`); a file not listed keeps vitest's own order after them.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const root = new URL('../..', import.meta.url).pathname;
const durations: Record<string, number> = JSON.parse(
  readFileSync(new URL('./durations.json', import.meta.url), 'utf8'),
);

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = (await super.sort(files)).map((spec, i) => ({ spec, i }));
    const ms = (s: TestSpecification) => durations[relative(root, s.moduleId)] ?? 0;
    // Projects stay in vitest's order (it runs them one after another); within one, longest first.
    ordered.sort((a, b) =>
      a.spec.project.name !== b.spec.project.name ? a.i - b.i : ms(b.spec) - ms(a.spec) || a.i - b.i,
    );
    return ordered.map((o) => o.spec);
  }
}

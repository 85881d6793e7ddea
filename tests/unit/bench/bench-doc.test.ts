/**
 * docs/benchmarks.md upkeep by `npm run bench`: a benchmark's output replaces only its own block,
 * and the prose around it survives.
 */
import { describe, expect, it } from 'vitest';
import { markers, placeSection, sectionBlock } from '../../../scripts/bench-doc.mjs';

const agent = { name: 'agent', title: 'Agent' };
const broker = { name: 'broker', title: 'Broker' };

const DOC = [
  '# Benchmarks',
  '',
  'Intro.',
  '',
  '## Agent',
  '',
  'How the agent is measured.',
  '',
  '<!-- bench:agent:begin -->',
  'old agent table',
  '<!-- bench:agent:end -->',
  '',
  'Notes after the agent figures.',
  '',
  '## Broker',
  '',
  'Broker prose.',
  '',
  '<!-- bench:broker:begin -->',
  'old broker table',
  '<!-- bench:broker:end -->',
  '',
].join('\n');

describe('benchmark results in docs/benchmarks.md', () => {
  it('[bench-doc] replaces only the block between its own markers and keeps the text around it', () => {
    const block = sectionBlock('agent', 'Measured today.', '\n| a | b |\n| --- | --- |\n');
    const out = placeSection(DOC, agent, block);
    expect(out).not.toContain('old agent table');
    expect(out).toContain('old broker table');
    expect(out).toContain('How the agent is measured.');
    expect(out).toContain('Notes after the agent figures.');
    const { begin, end } = markers('agent');
    const inside = out.slice(out.indexOf(begin), out.indexOf(end) + end.length);
    expect(inside).toBe(`${begin}\n\nMeasured today.\n\n| a | b |\n| --- | --- |\n\n${end}`);
    // Running again gives the same file: the block is found and replaced, not appended.
    expect(placeSection(out, agent, block)).toBe(out);
  });

  it('[bench-doc] puts the block under the section heading when the markers are missing', () => {
    const doc = '# Benchmarks\n\n## Broker\n\nBroker prose.\n\n## Central pipeline\n\nPipeline prose.\n';
    const out = placeSection(doc, broker, sectionBlock('broker', 'h', 'table'));
    const at = out.indexOf(markers('broker').begin);
    expect(at).toBeGreaterThan(out.indexOf('Broker prose.'));
    expect(at).toBeLessThan(out.indexOf('## Central pipeline'));
    expect(out).toContain('Pipeline prose.');
  });

  it('[bench-doc] adds the section at the end when the heading is missing too', () => {
    const out = placeSection('# Benchmarks\n\nIntro.\n', agent, sectionBlock('agent', 'h', 'table'));
    expect(out).toBe(
      '# Benchmarks\n\nIntro.\n\n## Agent\n\n<!-- bench:agent:begin -->\n\nh\n\ntable\n\n<!-- bench:agent:end -->\n',
    );
  });

  it('[bench-doc] a heading that merely starts with the title is not the section', () => {
    const doc = '# Benchmarks\n\n## Agent outbox\n\nOther.\n';
    const out = placeSection(doc, agent, sectionBlock('agent', 'h', 'table'));
    expect(out.indexOf('## Agent\n')).toBeGreaterThan(out.indexOf('Other.'));
  });
});

import { AgentConfig, parseConfigText } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

describe('config files: YAML warnings', () => {
  it('an unknown tag or directive prints no warning behind the logs; the schema judges the document', async () => {
    const warnings: Error[] = [];
    const seen = (w: Error) => warnings.push(w);
    process.on('warning', seen);
    try {
      expect(() =>
        parseConfigText(AgentConfig, '%FOO bar\n---\nagent: !weird { id: pi-1 }\n', 'agent config'),
      ).toThrow(/agent config: .*agent\.site/);
      await new Promise((r) => setTimeout(r, 20)); // process warnings are emitted on a later tick
    } finally {
      process.off('warning', seen);
    }
    expect(warnings.filter((w) => w.name === 'YAMLWarning')).toEqual([]);
  });
});

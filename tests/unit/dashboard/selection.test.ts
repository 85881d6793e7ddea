/** The technician's pickers and role views: choices follow what the user may see, top-down. */
import { describe, expect, it } from 'vitest';
import { resolveView, viewsFor } from '../../../dashboard/web/lib/routes.js';
import { choose, normalize, options } from '../../../dashboard/web/lib/selection.js';

const lanes = [
  { site: 's1', agent: 'pi-1', shelf: 'a', lane: 'L0' },
  { site: 's1', agent: 'pi-1', shelf: 'a', lane: 'L1' },
  { site: 's1', agent: 'pi-1', shelf: 'b', lane: 'L0' },
  { site: 's1', agent: 'pi-2', shelf: 'c', lane: 'L0' },
  { site: 's2', agent: 'pi-9', shelf: 'z', lane: 'L3' },
  { site: 's3', agent: null, shelf: 'q', lane: 'L0' },
];

describe('technician selection', () => {
  it('offers each level from the level above; lanes without an agent are skipped', () => {
    expect(options(lanes, {}).sites).toEqual(['s1', 's2']);
    expect(options(lanes, { site: 's1' }).agents).toEqual(['pi-1', 'pi-2']);
    expect(options(lanes, { site: 's1', agent: 'pi-1' }).shelves).toEqual(['a', 'b']);
    expect(options(lanes, { site: 's1', agent: 'pi-1', shelf: 'a' }).lanes).toEqual(['L0', 'L1']);
  });

  it('fills in defaults and corrects a choice that is no longer offered', () => {
    expect(normalize(lanes, {})).toEqual({ site: 's1', agent: 'pi-1', shelf: 'a', lane: 'L0' });
    expect(normalize(lanes, { site: 's2' })).toEqual({ site: 's2', agent: 'pi-9', shelf: 'z', lane: 'L3' });
    expect(normalize(lanes, { site: 's1', agent: 'pi-1', shelf: 'a', lane: 'L7' })?.lane).toBe('L0');
    expect(normalize([], {})).toBeNull();
  });

  it('changing a level resets the levels below it', () => {
    const sel = { site: 's1', agent: 'pi-1', shelf: 'a', lane: 'L1' };
    expect(normalize(lanes, choose(sel, 'agent', 'pi-2'))).toEqual({
      site: 's1',
      agent: 'pi-2',
      shelf: 'c',
      lane: 'L0',
    });
    expect(normalize(lanes, choose(sel, 'lane', 'L0'))).toEqual({ ...sel, lane: 'L0' });
  });
});

describe('views per role', () => {
  it('[role views] each role gets its own view and the admin view; admins get all; others none', () => {
    expect(viewsFor('supplier')).toEqual(['supplier', 'admin']);
    expect(viewsFor('operator')).toEqual(['operator', 'admin']);
    expect(viewsFor('technician')).toEqual(['technician', 'admin']);
    expect(viewsFor('admin')).toEqual(['supplier', 'operator', 'technician', 'admin']);
    expect(viewsFor('agent')).toEqual([]);
  });

  it('a path for a view the role lacks falls back to its own view', () => {
    expect(resolveView('supplier', '/technician')).toBe('supplier');
    expect(resolveView('admin', '/technician')).toBe('technician');
    expect(resolveView('admin', '/')).toBe('supplier');
    expect(resolveView('agent', '/')).toBeNull();
  });
});

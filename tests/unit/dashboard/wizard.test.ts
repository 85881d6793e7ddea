/**
 * Calibration wizards: every wizard says what to do, inputs are checked before anything is sent,
 * arguments pass the agent's own schema, and the result reads the residual error and judges it.
 */
import { describe, expect, it } from 'vitest';
import {
  checkInput,
  commandArgs,
  summarize,
  verdict,
  WIZARD_KINDS,
  WIZARDS,
} from '../../../dashboard/web/lib/wizard.js';

describe('wizard definitions', () => {
  it('[guided wizard] each wizard has preparation steps and an action', () => {
    for (const k of WIZARD_KINDS) {
      expect(WIZARDS[k].prepare.length).toBeGreaterThan(0);
      expect(WIZARDS[k].action).not.toBe('');
    }
    expect(WIZARDS.tare.input).toBeNull();
    expect(WIZARDS.calibrate.input?.name).toBe('massG');
    expect(WIZARDS['learn-unit'].input?.name).toBe('count');
  });
});

describe('checkInput', () => {
  it('tare needs no value', () => {
    expect(checkInput('tare', '')).toEqual({ ok: true, value: null });
  });

  it('calibrate takes a positive mass, accepting a decimal comma', () => {
    expect(checkInput('calibrate', '500')).toEqual({ ok: true, value: 500 });
    expect(checkInput('calibrate', ' 499,5 ')).toEqual({ ok: true, value: 499.5 });
    const empty = checkInput('calibrate', '');
    expect(empty.ok === false && empty.error).toMatch(/^Reference mass \(grams\): enter a number/);
    const neg = checkInput('calibrate', '-5');
    expect(neg.ok === false && neg.error).toMatch(/between 1 and/);
    const nan = checkInput('calibrate', 'abc');
    expect(nan.ok === false && nan.error).toMatch(/not a number/);
  });

  it('learn-unit takes a whole number of items', () => {
    expect(checkInput('learn-unit', '12')).toEqual({ ok: true, value: 12 });
    const frac = checkInput('learn-unit', '2.5');
    expect(frac.ok === false && frac.error).toMatch(/whole number/);
    const zero = checkInput('learn-unit', '0');
    expect(zero.ok).toBe(false);
  });
});

describe('commandArgs', () => {
  it('builds the documented arguments, checked by the shared schema', () => {
    expect(commandArgs('tare', 'shelf-a', 'L0', null)).toEqual({ shelf: 'shelf-a', lane: 'L0' });
    expect(commandArgs('calibrate', 'shelf-a', 'L0', 500)).toEqual({
      shelf: 'shelf-a',
      lane: 'L0',
      massG: 500,
    });
    expect(commandArgs('learn-unit', 'shelf-a', 'L0', 12)).toEqual({
      shelf: 'shelf-a',
      lane: 'L0',
      count: 12,
    });
    expect(() => commandArgs('calibrate', 'shelf-a', 'L0', null)).toThrow();
    expect(() => commandArgs('tare', 'bad shelf', 'L0', null)).toThrow();
  });
});

describe('results', () => {
  it('judges the residual against the unit weight', () => {
    expect(verdict(1, 350)).toBe('good');
    expect(verdict(-50, 350)).toBe('fair');
    expect(verdict(120, 350)).toBe('poor');
    expect(verdict(null, 350)).toBe('unknown');
    expect(verdict(1, null)).toBe('unknown');
  });

  it('[residual shown] shows the correction apart from the error left, and judges only the latter', () => {
    const s = summarize(
      'calibrate',
      { residualG: 0.8, correctionG: -159, referenceG: 2000, after: {}, before: {} },
      100,
    );
    expect(s.lines).toEqual([
      'Reference mass: 2,000.0 g',
      'Corrected: ±159.00 g (the previous error)',
      'Residual error: ±0.80 g',
    ]);
    expect(s.verdict).toBe('good');
  });

  it('[residual shown] reads a calibrate record', () => {
    const s = summarize('calibrate', { residualG: 0.42, referenceG: 500, after: {}, before: {} }, 350);
    expect(s.lines).toEqual(['Reference mass: 500.0 g', 'Residual error: ±0.42 g']);
    expect(s.verdict).toBe('good');
  });

  it('reads a learn-unit record and judges against the learned weight', () => {
    const rec = {
      residualG: 40,
      before: { '0': { unitWeightG: 350 } },
      after: { '0': { unitWeightG: 100 } },
    };
    const s = summarize('learn-unit', rec, 350);
    expect(s.lines[0]).toBe('Unit weight: 100.0 g (was 350.0 g)');
    expect(s.verdict).toBe('poor');
  });

  it('survives an answer without a record', () => {
    expect(summarize('tare', undefined, 350)).toEqual({
      residualG: null,
      lines: ['Residual error: —'],
      verdict: 'unknown',
    });
  });
});

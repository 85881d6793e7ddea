/**
 * `!secret NAME` in a config file: the value comes from `secrets.yaml` beside it, as Home Assistant
 * and zigbee2mqtt do, so the config can be shared, versioned or shown while the passwords stay in
 * one file of their own (mode 0600):
 *
 *   # agent.yaml                        # secrets.yaml
 *   broker:                             mqtt_password: "s3cret…"
 *     password: !secret mqtt_password
 *
 * secrets.yaml is read only if a `!secret` asks for it, once per config file.
 */
import { readFileSync } from 'node:fs';
import type { ScalarTag } from 'yaml';
import { parse as parseYaml } from 'yaml';
import { ErrorCodes, ShelfError } from '../errors.js';

/** Where `!secret` looks up: the secrets file beside a config file. */
export const SECRETS_FILE_NAME = 'secrets.yaml';

/**
 * The `!secret` tag for one parse. A failure cannot be thrown from inside the YAML parser: it is
 * kept, the node resolves to an empty string, and `check()` throws it once the parse is done.
 */
export function secretTag(secretsFile: string | undefined): { tag: ScalarTag; check(): void } {
  let secrets: Record<string, unknown> | undefined;
  let failure: ShelfError | undefined;
  const fail = (err: ShelfError) => {
    failure ??= err;
    return '';
  };
  const load = (name: string): Record<string, unknown> => {
    if (secrets) return secrets;
    if (secretsFile === undefined) {
      throw new ShelfError(
        ErrorCodes.FILE,
        `!secret ${name}: secrets come from ${SECRETS_FILE_NAME} beside a config file, and this config has no file`,
      );
    }
    let text: string;
    try {
      text = readFileSync(secretsFile, 'utf8');
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
      throw new ShelfError(ErrorCodes.FILE, `!secret ${name}: cannot read ${secretsFile}: ${why}`, [
        { path: secretsFile, message: why },
      ]);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text, { logLevel: 'error' });
    } catch (err) {
      // The parser's message quotes the line, which may hold a secret: give the position alone.
      const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      throw new ShelfError(ErrorCodes.FILE, `${secretsFile} is not valid YAML${at}`);
    }
    if (doc === null || doc === undefined) doc = {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ShelfError(ErrorCodes.FILE, `${secretsFile} must map secret names to values (name: value)`);
    }
    secrets = doc as Record<string, unknown>;
    return secrets;
  };
  const tag: ScalarTag = {
    tag: '!secret',
    resolve(source: string) {
      const name = source.trim();
      if (failure) return '';
      if (name === '') {
        const message = 'needs a name: `!secret mqtt_password`';
        return fail(new ShelfError(ErrorCodes.INVALID, `!secret ${message}`, [{ path: '!secret', message }]));
      }
      let all: Record<string, unknown>;
      try {
        all = load(name);
      } catch (err) {
        return fail(err as ShelfError);
      }
      if (!Object.hasOwn(all, name)) {
        const known = Object.keys(all);
        return fail(
          new ShelfError(
            ErrorCodes.FILE,
            `!secret ${name}: ${secretsFile} has no "${name}"` +
              (known.length ? ` (it has ${known.map((k) => `"${k}"`).join(', ')})` : ' (it is empty)'),
            [{ path: name, message: `not in ${secretsFile}` }],
          ),
        );
      }
      const value = all[name];
      // A number or a date would come out reformatted (leading zeros, precision): secrets are text.
      if (typeof value !== 'string') {
        return fail(
          new ShelfError(
            ErrorCodes.FILE,
            `!secret ${name}: the value in ${secretsFile} must be a string; quote it ("…")`,
            [{ path: name, message: 'not a string' }],
          ),
        );
      }
      return value;
    },
  };
  return {
    tag,
    check() {
      if (failure) throw failure;
    },
  };
}

/**
 * Environment overrides of a config file, as zigbee2mqtt's `ZIGBEE2MQTT_CONFIG_*`: any field can be
 * set (or a secret given) without editing the YAML, which suits containers, systemd credentials and
 * tests. The rules (docs/configuration.md):
 *
 * - `PREFIX` + the field's path, levels joined by `__`: `SHELFSENSE_CENTRAL_HTTP__PORT=8081` sets
 *   `http.port`. Within a level, case and `_` do not matter: `MAX_PACKET_BYTES`, `MAXPACKETBYTES`
 *   and `maxPacketBytes` all name `maxPacketBytes`.
 * - A number addresses a list entry: `SHELFSENSE_AGENT_SOURCES__0__PATH=/dev/ttyUSB0`. An index
 *   may be one past the end, which adds an entry.
 * - The value is JSON when it parses as JSON (`8081`, `true`, `["mqtt://a","mqtt://b"]`) and the
 *   field takes it; otherwise it is the text as written (so `SITE=007` stays "007" for a text field).
 * - A name ending `_FILE` reads the value from that file, one trailing newline dropped, as text
 *   (Docker and systemd secrets): `SHELFSENSE_AGENT_BROKER__PASSWORD_FILE=/run/secrets/mqtt`.
 *   A field whose own name ends in `File` (`certFile`) is set directly, as any other.
 * - A variable naming a field the schema does not have is an error naming the variable.
 *
 * The schema still validates the result; its errors name the variable that set the field.
 */
import { readFileSync } from 'node:fs';
import { ErrorCodes, type Issue, ShelfError } from '../errors.js';
import type { AnySchema } from '../zod.js';
import * as z from '../zod.js';

/** The suffix of a variable that holds a file name, the value being that file's contents. */
export const FILE_SUFFIX = '_FILE';

/** One variable, resolved against the schema. */
export interface EnvOverride {
  /** The variable's name, for errors. */
  variable: string;
  /** The field's path in the config. */
  path: (string | number)[];
  /** The value to set (read from the file for a `_FILE` variable). */
  value: unknown;
  /** True when the value came from a file. */
  fromFile: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: readonly AnySchema[];
  valueType?: AnySchema;
  left?: AnySchema;
  right?: AnySchema;
  getter?: () => AnySchema;
}

const defOf = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a value at this place may be read with: wrappers removed, unions spread out. */
function shapesOf(schema: AnySchema, seen = new Set<AnySchema>()): AnySchema[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const d = defOf(schema);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return shapesOf(d.innerType as AnySchema, seen);
    case 'pipe':
      // What the file holds is the pipe's input.
      return shapesOf(d.in as AnySchema, seen);
    case 'lazy':
      return shapesOf((d.getter as () => AnySchema)(), seen);
    case 'union':
      return (d.options ?? []).flatMap((o) => shapesOf(o, seen));
    case 'intersection':
      return [...shapesOf(d.left as AnySchema, seen), ...shapesOf(d.right as AnySchema, seen)];
    default:
      return [schema];
  }
}

/** `maxPacketBytes`, `MAX_PACKET_BYTES` and `MAXPACKETBYTES` are one name. */
const fold = (s: string) => s.replace(/[_-]/g, '').toLowerCase();

const dotted = (path: readonly (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');

type Step = { ok: true; key: string | number; next: AnySchema[] } | { ok: false; known: string[] };

/** One level of a variable's name against the schemas a value there may have. */
function step(shapes: AnySchema[], segment: string): Step {
  const next: AnySchema[] = [];
  let key: string | number | undefined;
  const known = new Set<string>();
  for (const s of shapes) {
    const d = defOf(s);
    if (d.type === 'object' && d.shape) {
      for (const [k, v] of Object.entries(d.shape)) {
        known.add(k);
        if (fold(k) === fold(segment)) {
          key = k;
          next.push(v);
        }
      }
    } else if (d.type === 'array' && /^\d+$/.test(segment)) {
      key = Number(segment);
      next.push(d.element as AnySchema);
    } else if (d.type === 'record' && d.valueType) {
      // A map's keys are the user's own: taken as written.
      key = segment;
      next.push(d.valueType);
    }
  }
  if (key === undefined) return { ok: false, known: [...known] };
  return { ok: true, key, next: next.flatMap((n) => shapesOf(n)) };
}

interface Resolved {
  path: (string | number)[];
  leaf: AnySchema[];
}

/** The field a variable's name (without the prefix) names, or why it names none. */
function resolvePath(
  schema: AnySchema,
  name: string,
): Resolved | { known: string[]; at: (string | number)[] } {
  const segments = name.split('__');
  let shapes = shapesOf(schema);
  const path: (string | number)[] = [];
  let leaf: AnySchema[] = [schema];
  for (const segment of segments) {
    if (segment === '') return { known: [], at: path };
    const r = step(shapes, segment);
    if (!r.ok) return { known: r.known, at: path };
    path.push(r.key);
    shapes = r.next;
    leaf = r.next;
  }
  return { path, leaf };
}

function envError(variable: string, message: string, field?: string): ShelfError {
  const issue: Issue = { path: variable, message: field ? `${field}: ${message}` : message };
  return new ShelfError(ErrorCodes.INVALID, `${variable}: ${issue.message}`, [issue]);
}

/** Drops one trailing newline, as `echo secret > file` leaves one. */
function readValueFile(variable: string, field: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    throw new ShelfError(ErrorCodes.FILE, `${variable}: ${field}: cannot read ${file}: ${why}`, [
      { path: variable, message: `${field}: cannot read ${file}: ${why}` },
    ]);
  }
  return text.replace(/\r?\n$/, '');
}

/** JSON when it parses and the field takes it; otherwise the text itself. */
function typedValue(raw: string, leaf: readonly AnySchema[]): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof parsed === 'string') return parsed;
  const takes = (v: unknown) => leaf.some((s) => z.safeParse(s, v).success);
  return !takes(parsed) && takes(raw) ? raw : parsed;
}

/**
 * The variables of `env` that start with `prefix`, each resolved to a field of `schema` and its
 * value, shallowest first (a whole list before one of its entries). Throws on the first variable
 * that names no field, or whose file cannot be read.
 */
export function envOverrides(schema: AnySchema, prefix: string, env: Env): EnvOverride[] {
  const out: EnvOverride[] = [];
  const names = Object.keys(env)
    .filter((k) => k.startsWith(prefix) && env[k] !== undefined)
    .sort();
  for (const variable of names) {
    const raw = env[variable] as string;
    const name = variable.slice(prefix.length);
    let r = resolvePath(schema, name);
    let fromFile = false;
    // A field named …File is itself; only a name the schema lacks is read as NAME + _FILE.
    if (!('path' in r) && name.endsWith(FILE_SUFFIX)) {
      const direct = r;
      r = resolvePath(schema, name.slice(0, -FILE_SUFFIX.length));
      if ('path' in r) fromFile = true;
      else r = direct;
    }
    if (!('path' in r)) {
      const at = r.at.length ? dotted(r.at) : 'the config';
      const has = r.known.length ? ` (${at} has ${r.known.join(', ')})` : '';
      throw envError(variable, `names no field of ${at}${has}`);
    }
    const field = dotted(r.path);
    if (fromFile) {
      const twin = variable.slice(0, -FILE_SUFFIX.length);
      if (env[twin] !== undefined) throw envError(twin, `set either ${twin} or ${variable}, not both`, field);
    }
    const value = fromFile ? readValueFile(variable, field, raw) : typedValue(raw, r.leaf);
    out.push({ variable, path: r.path, value, fromFile });
  }
  return out.sort((a, b) => a.path.length - b.path.length || comparePaths(a.path, b.path));
}

function comparePaths(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy of `doc` with each override set at its path, making the mappings and list entries on the
 * way. The document itself is left as it is.
 */
export function applyEnvOverrides(doc: unknown, overrides: readonly EnvOverride[]): unknown {
  const root: unknown = structuredClone(doc ?? {});
  for (const o of overrides) {
    if (!isRecord(root)) throw envError(o.variable, 'the config file is not a mapping of fields');
    let at: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < o.path.length; i++) {
      const key = o.path[i] as string | number;
      const last = i === o.path.length - 1;
      const here = dotted(o.path.slice(0, i + 1));
      if (typeof key === 'number') {
        if (!Array.isArray(at))
          throw envError(o.variable, 'is not a list in the config file', dotted(o.path.slice(0, i)));
        if (key > at.length) {
          throw envError(
            o.variable,
            `index ${key} is past the end: the list has ${at.length} ${at.length === 1 ? 'entry' : 'entries'}; index ${at.length} adds one`,
            dotted(o.path.slice(0, i)),
          );
        }
      } else if (Array.isArray(at)) {
        throw envError(o.variable, 'is a list in the config file, not a mapping', dotted(o.path.slice(0, i)));
      }
      const container = at as Record<string | number, unknown>;
      if (last) {
        container[key] = o.value;
        break;
      }
      const nextKey = o.path[i + 1];
      let child = container[key];
      if (child === undefined || child === null) {
        child = typeof nextKey === 'number' ? [] : {};
        container[key] = child;
      }
      if (typeof child !== 'object')
        throw envError(o.variable, 'holds a value in the config file, not fields', here);
      at = child as Record<string, unknown> | unknown[];
    }
  }
  return root;
}

/**
 * Names the variable behind each schema issue on a field an override set (or inside it), so
 * `http.port: expected number` reads `http.port (SHELFSENSE_CENTRAL_HTTP__PORT): expected number`.
 * A value from a file is never quoted; the schema's messages do not quote values either.
 */
export function blameOverrides(issues: readonly Issue[], overrides: readonly EnvOverride[]): Issue[] {
  const byPath = overrides.map((o) => ({ key: o.path.join('.'), o }));
  return issues.map((issue) => {
    const hit = byPath
      .filter(({ key }) => issue.path === key || issue.path.startsWith(`${key}.`))
      .sort((a, b) => b.key.length - a.key.length)[0];
    return hit ? { path: `${issue.path} (${hit.o.variable})`, message: issue.message } : issue;
  });
}

/**
 * A tiny router: `METHOD /api/orders/:id/acknowledge` patterns matched segment by segment, with
 * each `:param` percent-decoded. A path that matches with another method is told apart from one
 * that matches nothing, so the API can answer 405 rather than 404.
 */
export type Params = Readonly<Record<string, string>>;

export interface Route<H> {
  method: string;
  /** The pattern, also used as the metrics label. */
  pattern: string;
  handler: H;
}

interface Compiled<H> extends Route<H> {
  segments: readonly string[];
}

export type Match<H> =
  | { kind: 'found'; route: Route<H>; params: Params }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

function split(path: string): string[] {
  return path.split('/').filter((s, i) => i > 0 || s !== '');
}

export class Router<H> {
  private readonly routes: Compiled<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method: method.toUpperCase(), pattern, handler, segments: split(pattern) });
    return this;
  }

  match(method: string, path: string): Match<H> {
    const segs = split(path);
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchSegments(r.segments, segs);
      if (!params) continue;
      if (r.method === method) return { kind: 'found', route: r, params };
      allowed.push(r.method);
    }
    return allowed.length ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

function matchSegments(pattern: readonly string[], segs: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segs[i] as string;
    if (p.startsWith(':')) {
      if (s === '') return null;
      let v: string;
      try {
        v = decodeURIComponent(s);
      } catch {
        return null; // malformed percent-encoding names nothing
      }
      params[p.slice(1)] = v;
    } else if (p !== s) {
      return null;
    }
  }
  return params;
}

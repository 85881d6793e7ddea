/**
 * The command lines a reader of README.md and docs/ is told to type: each `shelfsense`, `npx`,
 * `npm run` / `npm start` / `npm test` / `npm ci` and `node_modules/.bin/…` line of a shell (or
 * unlabelled) fenced code block, and the same commands written whole in an inline code span.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface DocCommand {
  /** `docs/security.md:69` */
  where: string;
  file: string;
  /** The command as written, continuation lines joined, comment and prompt removed. */
  line: string;
  inline: boolean;
}

const SHELL_FENCES = new Set(['', 'sh', 'bash', 'shell', 'console']);
/** Box-drawing and arrow characters: a diagram, not a command. */
const DIAGRAM = /[─│┌┐└┘├┤▶◀→]/;

function markdownFiles(root: string): string[] {
  const out = [join(root, 'README.md')];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name));
    }
  };
  walk(join(root, 'docs'));
  return out;
}

/** The segments of a command line joined by `&&`, `||`, `;` or `|`. */
export function segments(line: string): string[] {
  return line
    .split(/\s*(?:&&|\|\||;|\|)\s*/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A segment without its leading `VAR=value` assignments. */
export function withoutEnv(segment: string): string {
  return segment.replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, '');
}

export function isCommandSegment(segment: string): boolean {
  const s = withoutEnv(segment);
  return (
    /^shelfsense(\s|$)/.test(s) ||
    /^npx\s/.test(s) ||
    /^npm\s+(run|run-script|start|test|ci)(\s|$)/.test(s) ||
    /^(\.\/)?node_modules\/\.bin\/\S+/.test(s)
  );
}

function stripComment(line: string): string {
  // Only a `#` that starts a word is a comment (none of the documented commands quote one).
  return line.replace(/(^|\s)#.*$/, '').trim();
}

export function extractCommands(root: string): DocCommand[] {
  const found: DocCommand[] = [];
  for (const path of markdownFiles(root)) {
    const file = relative(root, path);
    const lines = readFileSync(path, 'utf8').split('\n');
    let fence: string | null = null;
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      const open = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(raw);
      if (open) {
        fence = fence === null ? open[2]!.toLowerCase() : null;
        continue;
      }
      if (fence !== null) {
        if (!SHELL_FENCES.has(fence) || DIAGRAM.test(raw)) continue;
        let text = raw;
        const at = i;
        while (text.trimEnd().endsWith('\\') && i + 1 < lines.length) {
          text = `${text.trimEnd().slice(0, -1)} ${lines[++i]!.trim()}`;
        }
        const line = stripComment(text.replace(/^\s*\$\s+/, ''));
        // `shelfsense sim [--seed N] …` is a usage synopsis, not a command.
        if (line && !/\s\[-/.test(line) && segments(line).some(isCommandSegment)) {
          found.push({ where: `${file}:${at + 1}`, file, line, inline: false });
        }
        continue;
      }
      // Inline code spans in prose: only whole commands (no `…` or NAME-style placeholder).
      for (const m of raw.matchAll(/`([^`]+)`/g)) {
        const span = m[1]!.trim();
        if (!segments(span).some(isCommandSegment) || !isCommandSegment(segments(span)[0]!)) continue;
        if (/…|\.\.\.|\b[A-Z]{2,}\b/.test(span)) continue;
        if (span === 'shelfsense') continue; // the command's name
        if (/\s--?[\w-]+$/.test(span) && !/\s--help$/.test(span) && !/^npm\s/.test(span)) continue; // a flag named in prose
        found.push({ where: `${file}:${i + 1}`, file, line: span, inline: true });
      }
    }
  }
  return found;
}

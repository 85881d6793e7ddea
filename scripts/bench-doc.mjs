// Places a benchmark's generated output into docs/benchmarks.md: between the section's
// `<!-- bench:NAME:begin -->` / `<!-- bench:NAME:end -->` markers when they exist, else under the
// section's `## Title` heading (before the next section), else in a new section at the end. Text
// outside the markers — the prose other people write around the figures — is kept as it is.

/** The markers of one benchmark's generated block. */
export function markers(name) {
  return { begin: `<!-- bench:${name}:begin -->`, end: `<!-- bench:${name}:end -->` };
}

/** The generated block: markers around a header line and the benchmark's own output. */
export function sectionBlock(name, header, output) {
  const { begin, end } = markers(name);
  return [begin, '', header.trim(), '', output.trim(), '', end].join('\n');
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `text` with `block` in the place of the section's previous block (see the file comment). */
export function placeSection(text, { name, title }, block) {
  const { begin, end } = markers(name);
  const i = text.indexOf(begin);
  const j = i >= 0 ? text.indexOf(end, i) : -1;
  let out;
  if (i >= 0 && j > i) {
    out = text.slice(0, i) + block + text.slice(j + end.length);
  } else {
    const heading = new RegExp(`^## ${escapeRegExp(title)}[ \\t]*$`, 'm').exec(text);
    if (heading) {
      const after = heading.index + heading[0].length;
      const next = text.slice(after).search(/^## /m);
      const at = next < 0 ? text.length : after + next;
      const rest = text.slice(at);
      out = `${text.slice(0, at).trimEnd()}\n\n${block}\n${rest ? `\n${rest}` : ''}`;
    } else {
      out = `${text.trimEnd()}\n\n## ${title}\n\n${block}\n`;
    }
  }
  return out.endsWith('\n') ? out : `${out}\n`;
}

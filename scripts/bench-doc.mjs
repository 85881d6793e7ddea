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

// ---- summary ------------------------------------------------------------------------------------
// Each benchmark ends its output with one line `<!-- summary:NAME {"rows":[…]} -->` (invisible in
// the rendered Markdown): its headline figures, each next to the peer measured in the same run.
// After recording a benchmark, bench.mjs rebuilds the "Summary" section from every such line in
// the file, so the table covers the latest run of each benchmark.

/** The summary line a benchmark prints last. Row: {measure, ours, peer, peerName, higherIsBetter, target, met}. */
export function summaryLine(name, rows) {
  return `<!-- summary:${name} ${JSON.stringify({ rows })} -->`;
}

const fmt = (x) =>
  typeof x !== 'number' || !Number.isFinite(x)
    ? '–'
    : x.toLocaleString('en-US', {
        maximumFractionDigits: Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2,
      });

/** The Summary section's Markdown, from every summary line in `text` (benchmarks in file order). */
export function summaryTable(text) {
  const lines = [...text.matchAll(/<!-- summary:([\w-]+) (\{.*\}) -->/g)];
  if (!lines.length) return null;
  const out = [
    '| benchmark | measure | Shelfsense | peer (same run) | ratio | target | |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const [, name, json] of lines) {
    let rows;
    try {
      rows = JSON.parse(json).rows;
    } catch {
      continue;
    }
    for (const r of rows) {
      const ratio = r.peer ? r.ours / r.peer : Number.NaN;
      out.push(
        `| ${name} | ${r.measure} | ${fmt(r.ours)} | ${fmt(r.peer)} ${r.peerName ?? ''} | ${fmt(ratio)} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'met' : '**not met**'} |`,
      );
    }
  }
  return out.join('\n');
}

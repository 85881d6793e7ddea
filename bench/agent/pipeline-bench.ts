/**
 * Micro-benchmark of the agent's signal pipeline: nanoseconds per channel sample, everything
 * included (junk/spike rejection, median + average, stability, calibration, zero-tracking, health,
 * lane counting), on a busy 8-channel shelf at 80 SPS. Not a test: timings depend on the machine.
 *
 *   node --conditions=source --import tsx bench/agent/pipeline-bench.ts [--minutes 10] [--rounds 5]
 *
 * Frames are generated up front (seeded) so only the pipeline is timed. With `--expose-gc` it also
 * reports the heap allocated per frame (push() allocates no objects; what remains is the odd
 * boxed number where the JIT does not inline a call).
 */

import { ShelfPipeline } from '@shelfsense/agent';
import type { SampleFrame } from '@shelfsense/protocol';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const CHANNELS = 8;
const RATE = 80;
const minutes = flag('minutes', 10);
const rounds = flag('rounds', 5);

// mulberry32 + Box–Muller: a seeded shelf with 4 lanes of 2 cells, picks every few seconds.
let seed = 12_345;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());

const units = [10, 55, 250, 1000];
const items = [30, 12, 8, 5];
const offsets = Array.from({ length: CHANNELS }, () => 50_000 + rand() * 150_000);
const scales = Array.from({ length: CHANNELS }, () => 420 * (0.9 + rand() * 0.2));
const frames: SampleFrame[] = [];
const count = minutes * 60 * RATE;
for (let n = 0; n < count; n++) {
  if (n % (RATE * 3) === 0) {
    const lane = Math.floor(rand() * 4);
    items[lane] = Math.max(0, (items[lane] as number) + (rand() < 0.6 ? -1 : 2));
  }
  const raw: number[] = [];
  for (let ch = 0; ch < CHANNELS; ch++) {
    const lane = ch >> 1;
    const g = ((items[lane] as number) * (units[lane] as number)) / 2 + gauss();
    raw.push(rand() < 1e-4 ? 8_388_607 : Math.round((offsets[ch] as number) + (scales[ch] as number) * g));
  }
  frames.push({ type: 'sample', seq: n, deviceMs: Math.floor(1000 + n * 12.5), raw });
}

let events = 0;
function makePipeline(): ShelfPipeline {
  return new ShelfPipeline({
    channels: CHANNELS,
    calibrations: offsets.map((offset, ch) => ({ offset, scale: scales[ch] as number, points: [] })),
    lanes: units.map((unitWeightG, i) => ({ lane: `L${i}`, channels: [2 * i, 2 * i + 1], unitWeightG })),
    onEvent: () => {
      events++;
    },
  });
}

// Warm up the JIT, then time whole passes over the frames.
const warm = makePipeline();
for (let i = 0; i < Math.min(frames.length, 20_000); i++) warm.push(frames[i] as SampleFrame);

const results: number[] = [];
for (let r = 0; r < rounds; r++) {
  const p = makePipeline();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames.length; i++) p.push(frames[i] as SampleFrame);
  const ns = Number(process.hrtime.bigint() - t0);
  results.push(ns / (frames.length * CHANNELS));
}
results.sort((a, b) => a - b);
const median = results[Math.floor(results.length / 2)] as number;

// Heap allocated per frame on a warm pipeline (with --expose-gc; a short pass fits in the young
// generation, so the growth of the used heap is what push() allocated).
let bytesPerFrame: number | null = null;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  const p = makePipeline();
  const half = Math.min(frames.length >> 1, 20_000);
  for (let i = 0; i < half; i++) p.push(frames[i] as SampleFrame);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = half; i < 2 * half; i++) p.push(frames[i] as SampleFrame);
  bytesPerFrame = +((process.memoryUsage().heapUsed - before) / half).toFixed(1);
}

console.log(
  JSON.stringify({
    bench: 'pipeline',
    channels: CHANNELS,
    rate: RATE,
    samplesPerRound: frames.length * CHANNELS,
    nsPerChannelSample: { best: +(results[0] as number).toFixed(1), median: +median.toFixed(1) },
    heapBytesPerFrame: bytesPerFrame,
    eventsPerRound: Math.round(events / (rounds + 2)),
    node: process.version,
  }),
);
console.log(`pipeline: ${median.toFixed(0)} ns per channel sample (median of ${rounds}; target ≤ 5000 ns)`);

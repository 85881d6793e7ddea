/**
 * One NATS node cut off from the others, then healed, on a cluster chain of its own
 * (cluster-cases.ts). Its minute of cut and recovery runs in `npm run test:faults -- --cluster`,
 * not in `npm test`, which runs the other cluster faults (cluster.test.ts).
 */
import { clusterFaults } from './cluster-cases.js';

clusterFaults('one NATS node cut off from the others', ['cut']);

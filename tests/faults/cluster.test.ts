/**
 * Faults on the cluster deployment, in `npm test`: a worker killed mid-batch, the agent's NATS
 * node killed with `kill -9`, Postgres restarted (cluster-cases.ts). The cut between NATS nodes is
 * cluster-partition.test.ts, in `npm run test:faults -- --cluster`.
 */
import { clusterFaults } from './cluster-cases.js';

clusterFaults('a worker, a NATS node and Postgres lost mid-run', ['worker', 'nats-kill', 'postgres']);

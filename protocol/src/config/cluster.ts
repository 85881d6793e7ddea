/**
 * The cluster deployment (docs/scale-out.md): workers that take the readings from a NATS cluster's
 * JetStream, partitioned by lane, and keep the store in Postgres. Absent: one central process.
 */
import { z } from 'zod';
import { TimerDuration } from './common.js';

const MqttUrl = z.string().regex(/^(mqtts?|tcp):\/\/\S+$/, 'an MQTT URL such as mqtt://n1:1883');
const NatsUrl = z.string().regex(/^(nats|tls):\/\/\S+$/, 'a NATS URL such as nats://n1:4222');

export const ClusterConfig = z.strictObject({
  postgres: z.strictObject({
    url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// URL'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _')
      .default('shelfsense'),
    poolSize: z.number().int().min(1).max(200).default(4),
  }),
  /** The workers' NATS connection: the partitioned readings (user shelfsense-worker). */
  nats: z.strictObject({
    servers: z.array(NatsUrl).min(1),
    user: z.string().min(1).default('shelfsense-worker'),
    /** Read from this file, so the password is not in the config. */
    passwordFile: z.string().min(1).optional(),
  }),
  /** The workers' MQTT connection (a `service` user): stored marks, order and alert events out; agent status and shelf health in. */
  mqtt: z.strictObject({
    urls: z.array(MqttUrl).min(1),
    username: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
  }),
  /** Partitions of the readings; fixed once the stream exists (the NATS mapping names it too). */
  partitions: z.number().int().min(1).max(1024).default(16),
  /** Replicas of the readings stream and its consumers (3 on a 3-node cluster). */
  replicas: z.number().int().min(1).max(5).default(3),
  /** A worker's lease on its partitions; another takes them over this long after it dies. */
  leaseMs: z._default(TimerDuration, 10_000),
  /** A batch handed to a worker that died is handed out again after this long. */
  ackWaitMs: z._default(TimerDuration, 10_000),
  /** Readings per batch (one transaction). */
  batchSize: z.number().int().min(1).max(10_000).default(200),
  /** Run the webhook worker in each worker process too (the outbox is claimed with SKIP LOCKED). */
  webhooks: z.boolean().default(true),
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

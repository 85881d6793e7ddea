/**
 * The central side on a cluster: NATS users and permissions from the users and catalogue, the
 * readings' partitions, and the workers.
 */
export { clusterCommand } from './cli.js';
export {
  DEFAULT_BCRYPT_COST,
  type IssuedCredentials,
  type IssueOptions,
  issueCredentials,
  type NatsAuthUser,
  type NatsPrincipal,
  PASSWORD_SUFFIX,
  renderNatsAuth,
  type WorkerAccount,
} from './nats-auth.js';
export { type NatsPermissions, natsPermissions, type SubjectRules } from './nats-permissions.js';
export {
  consumerName,
  DEVICES_ACCOUNT,
  MAX_PARTITIONS,
  PARTITIONED_PREFIX,
  type PartitionedSubject,
  parsePartitioned,
  partitionFilter,
  partitionMappings,
  partitionOf,
  READING_KINDS,
  READINGS_STREAM,
  WORKER_USER,
  WORKERS_ACCOUNT,
} from './partition.js';
export {
  MQTT_DELIVERY_SUBJECT,
  mqttToNats,
  NATS_INTERNAL_SUBJECTS,
  NATS_RESERVED_PUBLISH,
  natsSubjectsOf,
} from './subjects.js';
export { importUsers, type PgUserStoreOptions, pgUserStore, TOKEN_SECRET_NAME } from './users.js';
export { ClusterWorker, type WorkerCounters, type WorkerOptions } from './worker.js';

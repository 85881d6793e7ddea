/** The central side on a cluster of brokers: NATS users and permissions from the users and catalogue. */
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
} from './nats-auth.js';
export { type NatsPermissions, natsPermissions, type SubjectRules } from './nats-permissions.js';
export {
  MQTT_DELIVERY_SUBJECT,
  mqttToNats,
  NATS_INTERNAL_SUBJECTS,
  NATS_RESERVED_PUBLISH,
  natsSubjectsOf,
} from './subjects.js';

/**
 * The HTTP API's request and response bodies (docs/http-api.md), one zod schema each: central
 * parses requests and types its answers with them, the dashboard checks every answer against them.
 *
 * Request bodies refuse unknown keys (a misspelt field is an error); query strings ignore unknown
 * parameters. Answers are read leniently, as MQTT payloads are: unknown keys are stripped, and a
 * field that may be null reads as null when left out. The inferred type (`z.infer`) is what
 * central sends, every field present.
 */
export * from './alerts.js';
export * from './audit.js';
export * from './auth.js';
export * from './catalogue.js';
export * from './commands.js';
export { ApiErrorBody, EmptyBody, RangeQuery } from './common.js';
export * from './lanes.js';
export * from './observations.js';
export * from './orders.js';
export * from './purchase-orders.js';
export * from './shelves.js';
export * from './users.js';
export * from './webhooks.js';

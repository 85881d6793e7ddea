/**
 * The zod that every part of the contract an agent loads is written with: zod/mini, the same
 * validation core as zod's chained API without the methods, imported function by function so a
 * bundle keeps only what it calls. Central and the dashboard use the chained API on top of the
 * same schemas (a mini schema is a zod schema to either). Messages in English, as with the
 * chained API.
 *
 *   import * as z from '@shelfsense/protocol/zod';
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
/** Any zod schema, mini or chained. */
export type { $ZodType as AnySchema } from 'zod/v4/core';

/** The audit routes (docs/http-api.md). */
import type { ApiRouter } from './context.js';

export function auditRoutes(_router: ApiRouter): void {}

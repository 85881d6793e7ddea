/** The catalogue routes (docs/http-api.md). */
import type { ApiRouter } from './context.js';

export function catalogueRoutes(_router: ApiRouter): void {}

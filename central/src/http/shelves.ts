/** The shelves routes (docs/http-api.md). */
import type { ApiRouter } from './context.js';

export function shelvesRoutes(_router: ApiRouter): void {}

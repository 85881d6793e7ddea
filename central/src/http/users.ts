/** The users routes (docs/http-api.md). */
import type { ApiRouter } from './context.js';

export function usersRoutes(_router: ApiRouter): void {}

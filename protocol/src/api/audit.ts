/** The audit routes' bodies (docs/http-api.md). */
export {};

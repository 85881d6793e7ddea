/** The catalogue routes' bodies (docs/http-api.md). */
export {};

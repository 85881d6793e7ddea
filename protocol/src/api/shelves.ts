/** The shelves routes' bodies (docs/http-api.md). */
export {};

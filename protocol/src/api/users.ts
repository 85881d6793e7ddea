/** The users routes' bodies (docs/http-api.md). */
export {};

/** Types of sync.mjs, for the tests that import it. */
export declare const DATASOURCE_UIDS: Record<string, string>;
export declare const DASHBOARDS: { from: string; to: string }[];
export declare const PROVISIONED_DIR: string;
export declare function provisioned(dashboard: Record<string, unknown>): Record<string, unknown>;

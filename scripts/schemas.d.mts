import type { AnySchema } from '@shelfsense/protocol';

export declare const SCHEMAS_DIR: string;
export declare const KINDS: readonly { kind: string; schema: AnySchema; title: string; doc: string }[];
/** The text of each schema file, by file name. */
export declare function schemaFiles(): Record<string, string>;

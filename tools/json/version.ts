// The JSON schema's version and document kinds, free of Node's modules so that the App Loader page can build
// records.jsonl lines too (the schema itself, and its checker, are in schema.ts).

/** The version every document carries in its `schema` field. */
export const JSON_SCHEMA_VERSION = 1;

export type JsonKind = "list" | "pull" | "decode" | "status" | "record";

// The pstore JSON schema (docs/pstore.schema.json, described in docs/JSON.md) and a checker for the part of JSON
// Schema it uses (type, const, enum, required, properties, additionalProperties: false, items, $ref, allOf, minimum,
// maximum, pattern). The archive checks each records.jsonl line with it; the tests check every --json output.

import { readFileSync } from "node:fs";
import { JSON_SCHEMA_VERSION, type JsonKind } from "./version";

export { JSON_SCHEMA_VERSION, type JsonKind };

interface SchemaNode {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean;
  items?: SchemaNode;
  $ref?: string;
  allOf?: SchemaNode[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

interface SchemaFile {
  $defs: Record<string, SchemaNode>;
}

export const SCHEMA_PATH = new URL("../../docs/pstore.schema.json", import.meta.url);

let loaded: SchemaFile | undefined;
function schemaFile(): SchemaFile {
  loaded ??= JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as SchemaFile;
  return loaded;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

function check(node: SchemaNode, value: unknown, path: string): string | undefined {
  if (node.$ref) {
    const name = node.$ref.replace(/^#\/\$defs\//, "");
    const target = schemaFile().$defs[name];
    if (!target) throw new Error(`pstore.schema.json: unknown $ref ${node.$ref}`);
    return check(target, value, path);
  }
  for (const part of node.allOf ?? []) {
    const problem = check(part, value, path);
    if (problem) return problem;
  }
  if (node.type !== undefined) {
    const types = Array.isArray(node.type) ? node.type : [node.type];
    if (!types.some((t) => matchesType(value, t))) return `${path} is ${typeOf(value)}, not ${types.join(" or ")}`;
  }
  if ("const" in node && value !== node.const) return `${path} is ${JSON.stringify(value)}, not ${JSON.stringify(node.const)}`;
  if (node.enum && !node.enum.includes(value)) return `${path} is ${JSON.stringify(value)}, not one of ${node.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if (typeof value === "number") {
    if (node.minimum !== undefined && value < node.minimum) return `${path} is ${value}, below ${node.minimum}`;
    if (node.maximum !== undefined && value > node.maximum) return `${path} is ${value}, above ${node.maximum}`;
  }
  if (typeof value === "string" && node.pattern && !new RegExp(node.pattern).test(value)) {
    return `${path} ${JSON.stringify(value.slice(0, 60))} does not match ${node.pattern}`;
  }
  if (Array.isArray(value) && node.items) {
    for (let i = 0; i < value.length; i++) {
      const problem = check(node.items, value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    for (const key of node.required ?? []) if (!(key in object)) return `${path} has no ${key}`;
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key in object) {
        const problem = check(child, object[key], `${path}.${key}`);
        if (problem) return problem;
      }
    }
    if (node.additionalProperties === false) {
      const extra = Object.keys(object).find((key) => !(key in (node.properties ?? {})));
      if (extra !== undefined) return `${path} has an unknown field ${JSON.stringify(extra)}`;
    }
  }
  return undefined;
}

/** The first way `value` differs from the schema's definition `name` (e.g. "list", "indexLine"), or undefined. */
export function schemaProblem(name: string, value: unknown): string | undefined {
  const node = schemaFile().$defs[name];
  if (!node) throw new Error(`pstore.schema.json has no definition ${JSON.stringify(name)}`);
  return check(node, value, name);
}

/** A document of the given kind: `{schema, kind, …body}`. */
export function jsonDocument<T extends object>(kind: JsonKind, body: T): { schema: number; kind: JsonKind } & T {
  return { schema: JSON_SCHEMA_VERSION, kind, ...body };
}

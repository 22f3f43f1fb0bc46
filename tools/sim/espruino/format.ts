// How the REPL prints a result after `=` (jsfPrintJSON with JSON_LIMIT | JSON_PRETTY | JSON_SHOW_DEVICES |
// JSON_DROP_QUOTES): functions as `function (a,b) { ... }`, strings quoted, objects `{ a: 1 }`, arrays `[ 1, 2 ]`.
// Approximation: Espruino breaks large objects over several lines and elides long arrays; this prints one line.

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Numbers as Espruino prints them: about 12 significant digits, no negative zero. */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n === 0) return "0";
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  return String(Number(n.toPrecision(12)));
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 32 || (code >= 127 && code < 256)) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

function functionText(fn: Function): string {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(source)) return "function () { [native code] }";
  const arrow = /^(?:async\s*)?\(?([^)=]*?)\)?\s*=>/.exec(source);
  const params = arrow ? arrow[1] : (/^[^(]*\(([^)]*)\)/.exec(source) ?? ["", ""])[1];
  return `function (${params.split(",").map((p) => p.trim()).filter((p) => p).join(",")}) { ... }`;
}

/**
 * `quoteKeys`: print()/console.log quote object keys, the REPL's `=` does not (JSON_DROP_QUOTES).
 * `deviceName` names the console/loopback objects (printed by name, as JSON_SHOW_DEVICES does); `seen` guards
 * against cycles.
 */
export function formatValue(value: unknown, deviceName: (v: object) => string | undefined, seen: object[] = [], quoteKeys = false): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return quote(value);
  if (typeof value === "function") return functionText(value);
  if (typeof value !== "object") return String(value);
  const device = deviceName(value);
  if (device) return device;
  if (seen.includes(value)) return "{ ... }";
  const inner = seen.concat([value]);
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  if (tag === "Error") return String(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.prototype.map.call(value, (v: number) => formatNumber(v)) as string[];
    return `new ${tag}([${items.join(", ")}])`;
  }
  if (tag === "ArrayBuffer") {
    return `new ArrayBuffer([${Array.from(new Uint8Array(value as ArrayBuffer)).join(", ")}])`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[ ]";
    return "[ " + value.map((v) => formatValue(v, deviceName, inner, quoteKeys)).join(", ") + " ]";
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return "{ }";
  const parts = keys.map((k) => (IDENTIFIER.test(k) && !quoteKeys ? k : quote(k)) + ": " + formatValue((value as Record<string, unknown>)[k], deviceName, inner, quoteKeys));
  return "{ " + parts.join(", ") + " }";
}

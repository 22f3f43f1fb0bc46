// The JavaScript world a simulated Espruino runs in: a Node `vm` context whose own intrinsics are cut down to what
// the interpreter has (ESPRUINO.md §1), so a bundle that reaches for Map or Array.from fails here as on the chip.
//
// Typed arrays behave as Espruino's (test/conformance recordings): `slice()` returns a plain Array, `subarray()` does
// not clamp its end (and refuses a start before 0), `set()` past the end writes what fits and takes a string's
// characters as bytes, `indexOf()` takes a negative start as 0. A view that runs past its buffer cannot be a view in
// V8: it is a copy of the bytes the buffer has, zeros after them (with the view's byteOffset), and writes to it are not
// seen through the buffer (on Espruino the part inside the buffer is shared).
//
// Not modelled (V8 cannot): `Array.prototype.slice` being undefined while `[].slice` works, RegExp gaps; the
// build's compatibility gate (tools/build/gate.ts) refuses both. No hoisting, `let` in `for` as one binding and the
// interpreter's own errors are the rewrite's (rewrite.ts).

import vm from "node:vm";

/** Constructors of the context's own realm, captured before anything is deleted. */
export interface Intrinsics {
  Object: ObjectConstructor;
  Array: ArrayConstructor;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
  SyntaxError: SyntaxErrorConstructor;
  ReferenceError: ReferenceErrorConstructor;
  Uint8Array: Uint8ArrayConstructor;
  ArrayBuffer: ArrayBufferConstructor;
  Function: FunctionConstructor;
  JSON: JSON;
}

/** Globals and members Espruino 2v29 does not have. Paths are relative to the context's global object. */
export const MISSING: readonly string[] = [
  "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "BigInt64Array", "BigUint64Array",
  "WeakRef", "FinalizationRegistry", "TextEncoder", "TextDecoder", "queueMicrotask", "setImmediate", "clearImmediate",
  "structuredClone", "RangeError", "EvalError", "URIError", "AggregateError", "SharedArrayBuffer", "Atomics",
  "Intl", "WebAssembly",
  "Math.imul", "Math.clz32", "Math.trunc", "Math.sign", "Math.fround", "Math.hypot", "Math.log2", "Math.log10",
  "Math.cbrt", "Math.expm1", "Math.log1p",
  "Number.isInteger", "Number.isFinite", "Number.isNaN", "Number.isSafeInteger", "Number.parseFloat", "Number.parseInt",
  "Number.EPSILON", "Number.MAX_SAFE_INTEGER", "Number.MIN_SAFE_INTEGER",
  "Array.from", "Array.of",
  "ArrayBuffer.prototype.slice",
  "Object.freeze", "Object.isFrozen", "Object.seal", "Object.isSealed", "Object.preventExtensions",
  "Object.getOwnPropertySymbols",
  "Array.prototype.reduceRight", "Array.prototype.lastIndexOf", "Array.prototype.flat", "Array.prototype.flatMap",
  "Array.prototype.at",
];
const TYPED_ARRAYS = [
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
  "Float32Array", "Float64Array",
];

/** slice, subarray and set of %TypedArray%.prototype as jswrap_arraybuffer.c has them. */
const ESPRUINO_TYPED_ARRAYS = `(function (proto) {
  var slice = Array.prototype.slice, subarray = proto.subarray, set = proto.set;
  function define(name, fn) { Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false }); }
  define("slice", function slice_(start, end) { return slice.call(this, start, end); });
  define("subarray", function subarray_(start, end) {
    var length = this.length, begin = Math.floor(Number(start)) || 0;
    if (begin < 0) begin += length;
    if (begin < 0) throw new Error("byteOffset too large (or negative)");
    var stop = end === undefined ? length : Math.floor(Number(end)) || 0;
    if (stop < 0) stop += length;
    var count = stop > begin ? stop - begin : 0;
    var Ctor = Object.getPrototypeOf(this).constructor, size = this.BYTES_PER_ELEMENT;
    var offset = this.byteOffset + begin * size, room = this.buffer.byteLength - offset;
    if (count * size <= room) return new Ctor(this.buffer, offset, count);
    var out = new Ctor(count);
    var inside = room > 0 ? Math.floor(room / size) : 0;
    if (inside > 0) set.call(out, new Ctor(this.buffer, offset, inside));
    Object.defineProperty(out, "byteOffset", { value: offset });
    return out;
  });
  var indexOf = proto.indexOf;
  // A negative start counts from 0, not from the end.
  define("indexOf", function indexOf_(value, from) { return indexOf.call(this, value, from < 0 ? 0 : from); });
  define("set", function set_(source, at) {
    // A string gives its characters as bytes.
    if (typeof source === "string") {
      var codes = [];
      for (var k = 0; k < source.length; k++) codes.push(source.charCodeAt(k) & 255);
      source = codes;
    }
    var offset = Math.floor(Number(at)) || 0, room = this.length - offset, n = source.length;
    if (n <= room) return set.call(this, source, offset);
    if (room > 0) set.call(this, ArrayBuffer.isView(source) ? subarray.call(source, 0, room) : slice.call(source, 0, room), offset);
  });
})`;

/**
 * Errors have no `.name` (nor a `.message` when made without one); String(e) still names the kind; TypeError, SyntaxError and ReferenceError are not
 * instances of Error. (Errors V8 raises itself are reworded as the interpreter's by rewrite.ts.)
 */
const ESPRUINO_ERRORS = `(function (g) {
  delete g.Error.prototype.name;
  delete g.Error.prototype.message;
  ["TypeError", "SyntaxError", "ReferenceError"].forEach(function (kind) {
    var proto = g[kind].prototype;
    delete proto.name;
    delete proto.message;
    Object.setPrototypeOf(proto, Object.prototype);
    Object.defineProperty(proto, "toString", { value: function toString() {
      var m = this.message; return m === undefined || m === "" ? kind : kind + ": " + m;
    }, writable: true, configurable: true, enumerable: false });
  });
})`;

export interface Realm {
  context: vm.Context;
  global: Record<string, unknown>;
  intrinsics: Intrinsics;
  /** Wraps a host function as a function of the context's realm (so `instanceof Function` and `.call` behave). */
  native<A extends unknown[], R>(name: string, fn: (self: unknown, ...args: A) => R): (...args: A) => R;
  /** A fresh plain object / array of the context's realm. */
  object(): Record<string, unknown>;
  array<T>(items: T[]): T[];
  bytes(data: ArrayLike<number>): Uint8Array;
  error(message: string, kind?: "Error" | "TypeError" | "SyntaxError" | "ReferenceError"): Error;
}

/** File name given to code that is part of the simulator rather than of the device program; its frames are hidden. */
export const NATIVE_FILE = "espruino:native";

function deletePath(root: Record<string, unknown>, path: string): void {
  const parts = path.split(".");
  let owner: Record<string, unknown> | undefined = root;
  for (let i = 0; i < parts.length - 1 && owner; i++) owner = owner[parts[i]] as Record<string, unknown> | undefined;
  if (owner) delete owner[parts[parts.length - 1]];
}

export function createRealm(): Realm {
  const context = vm.createContext({}, { name: "espruino", codeGeneration: { strings: true, wasm: false } });
  const global = vm.runInContext("this", context) as Record<string, unknown>;
  const intrinsics = vm.runInContext(
    "({Object:Object,Array:Array,Error:Error,TypeError:TypeError,SyntaxError:SyntaxError," +
      "ReferenceError:ReferenceError,Uint8Array:Uint8Array,ArrayBuffer:ArrayBuffer,Function:Function,JSON:JSON})",
    context,
  ) as Intrinsics;
  const wrapNative = new vm.Script(
    "(function (name, host) { var f = function () { return host(this, arguments); };" +
      " Object.defineProperty(f, 'name', { value: name }); return f; })",
    { filename: NATIVE_FILE },
  ).runInContext(context) as (name: string, host: (self: unknown, args: ArrayLike<unknown>) => unknown) => unknown;

  // Number's constants are not configurable: the global Number is replaced by a constructor without them.
  vm.runInContext(
    "(function (N) { var Num = function Number(v) { if (new.target) return new N(arguments.length ? v : 0); return arguments.length ? N(v) : 0; };" +
      " Num.prototype = N.prototype; ['MAX_VALUE','MIN_VALUE','NaN','NEGATIVE_INFINITY','POSITIVE_INFINITY'].forEach(function (k) {" +
      " Object.defineProperty(Num, k, { value: N[k] }); }); Object.defineProperty(this, 'Number', { value: Num, writable: true, configurable: true }); })" +
      ".call(this, Number)",
    context,
    { filename: NATIVE_FILE },
  );
  for (const path of MISSING) if (!path.startsWith("Number.")) deletePath(global, path);
  // Every typed array: no .from/.of (inherited from %TypedArray%, so delete there).
  const typedArrayBase = Object.getPrototypeOf(global.Uint8Array as object) as Record<string, unknown>;
  delete typedArrayBase.from;
  delete typedArrayBase.of;
  for (const name of TYPED_ARRAYS) {
    const ctor = global[name] as Record<string, unknown>;
    delete ctor.from;
    delete ctor.of;
  }
  new vm.Script(ESPRUINO_TYPED_ARRAYS, { filename: NATIVE_FILE }).runInContext(context)(typedArrayBase.prototype);
  new vm.Script(ESPRUINO_ERRORS, { filename: NATIVE_FILE }).runInContext(context)(global);
  // Promise is replaced by the interpreter's own (promise.ts); V8's is removed entirely.
  delete global.Promise;

  const realm: Realm = {
    context,
    global,
    intrinsics,
    native(name, fn) {
      return wrapNative(name, (self, args) => fn(self, ...(Array.prototype.slice.call(args) as never))) as never;
    },
    object() {
      return new intrinsics.Object() as Record<string, unknown>;
    },
    array(items) {
      const out = new intrinsics.Array();
      for (const item of items) out.push(item);
      return out as never;
    },
    bytes(data) {
      const out = new intrinsics.Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = data[i];
      return out;
    },
    error(message, kind = "Error") {
      return new intrinsics[kind](message);
    },
  };
  return realm;
}

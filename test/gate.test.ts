import test from "ava";
import * as esbuild from "esbuild";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { formatFinding, gate, regexProblems, type RuleId } from "../tools/build/gate";
import { hoistFunctionDeclarations } from "../tools/build/hoist";
import { createLocator, decodeMappings, encodeMappings, type SourceMap } from "../tools/build/sourcemap";

function rules(code: string): RuleId[] {
  return [...new Set(gate(code).map((finding) => finding.rule))].sort();
}

// One sample per construct of ESPRUINO.md §1 "Fails", and per trap the gate can see.
const rejected: Array<[string, RuleId[], string]> = [
  ["destructuring declaration", ["destructuring"], "var o = {}; const { a } = o;"],
  ["array destructuring", ["destructuring"], "var o = []; let [a, b] = o;"],
  ["destructuring parameter", ["destructuring"], "function f({ a }) { return a; }"],
  ["destructuring assignment", ["destructuring"], "var a, b; [a, b] = [b, a];"],
  ["destructuring for-of variable", ["destructuring"], "for (const [k, v] of []) {}"],
  ["destructuring catch parameter", ["destructuring"], "try {} catch ({ message }) {}"],
  ["spread in a call", ["spread"], "var f = Math.max, a = []; f(...a);"],
  ["spread in an array", ["spread"], "var a = []; var b = [...a];"],
  ["object spread", ["spread"], "var a = {}; var b = { ...a };"],
  ["rest parameter", ["rest"], "function f(...args) { return args; }"],
  ["rest in object destructuring", ["destructuring", "rest"], "var o = {}; var { a, ...others } = o;"],
  ["rest in array destructuring", ["destructuring", "rest"], "var o = []; var [a, ...others] = o;"],
  ["default parameter", ["default-param"], "function f(a = 1) { return a; }"],
  ["optional chaining", ["optional-chaining"], "var o = {}; o?.a;"],
  ["optional call", ["optional-chaining"], "var o = {}; o.f?.();"],
  ["exponent operator", ["exponent"], "var x = 2 ** 3;"],
  ["exponent assignment", ["exponent"], "var x = 2; x **= 3;"],
  ["??=", ["logical-assignment"], "var x; x ??= 1;"],
  ["||=", ["logical-assignment"], "var x; x ||= 1;"],
  ["&&=", ["logical-assignment"], "var x; x &&= 1;"],
  ["label", ["label"], "outer: for (;;) { for (;;) break outer; }"],
  ["computed key in an object", ["computed-key"], "var k = 'a'; var o = { [k]: 1 };"],
  ["computed key in a class", ["computed-key"], "var k = 'a'; class A { [k]() {} }"],
  ["tagged template", ["tagged-template"], "function tag(s) { return s; } tag`x`;"],
  ["private field", ["private-field"], "class A { #x = 1; get x() { return this.#x; } }"],
  ["static block", ["static-block"], "class A { static { A.ready = true; } }"],
  ["generator", ["generator"], "function* g() { yield 1; }"],
  ["async function", ["async"], "async function f() { return 1; }"],
  ["await", ["async"], "var f = async () => { await 1; };"],
  ["BigInt literal", ["bigint"], "var x = 10n;"],
  ["Map", ["missing-global"], "var m = new Map();"],
  ["Set", ["missing-global"], "var s = new Set();"],
  ["WeakMap", ["missing-global"], "var m = new WeakMap();"],
  ["WeakSet", ["missing-global"], "var s = new WeakSet();"],
  ["Symbol", ["missing-global"], "var s = Symbol('x');"],
  ["Proxy", ["missing-global"], "var p = new Proxy({}, {});"],
  ["Reflect", ["missing-global"], "Reflect.ownKeys({});"],
  ["BigInt", ["missing-global"], "var b = BigInt(1);"],
  ["TextEncoder", ["missing-global"], "new TextEncoder().encode('x');"],
  ["TextDecoder", ["missing-global"], "new TextDecoder().decode(new Uint8Array(1));"],
  ["queueMicrotask", ["missing-global"], "queueMicrotask(function () {});"],
  ["setImmediate", ["missing-global"], "setImmediate(function () {});"],
  ["RangeError", ["missing-global"], "throw new RangeError('x');"],
  ["EvalError", ["missing-global"], "throw new EvalError('x');"],
  ["URIError", ["missing-global"], "throw new URIError('x');"],
  ["Math.imul", ["missing-static"], "Math.imul(3, 4);"],
  ["Math.clz32", ["missing-static"], "Math.clz32(3);"],
  ["Math.trunc", ["missing-static"], "Math.trunc(3.5);"],
  ["Math.sign", ["missing-static"], "Math.sign(-3);"],
  ["Math.log2", ["missing-static"], "Math.log2(8);"],
  ["Math.hypot", ["missing-static"], "Math.hypot(3, 4);"],
  ["Number.isInteger", ["missing-static"], "Number.isInteger(3);"],
  ["Number.isNaN", ["missing-static"], "Number.isNaN(3);"],
  ["Number.parseInt", ["missing-static"], "Number.parseInt('3');"],
  ["Number.EPSILON", ["missing-static"], "var e = Number.EPSILON;"],
  ["Number.MAX_SAFE_INTEGER", ["missing-static"], "var m = Number.MAX_SAFE_INTEGER;"],
  ["Array.from", ["missing-static"], "Array.from('abc');"],
  ["Array.of", ["missing-static"], "Array.of(1, 2);"],
  ["Uint8Array.from", ["missing-static"], "Uint8Array.from([1, 2]);"],
  ["Float32Array.of", ["missing-static"], "Float32Array.of(1, 2);"],
  ["Float64Array", ["float64array"], "var keys = new Float64Array(4);"],
  ["Object.freeze", ["missing-static"], "Object.freeze({});"],
  ["Object.isFrozen", ["missing-static"], "Object.isFrozen({});"],
  ["Object.seal", ["missing-static"], "Object.seal({});"],
  ["Object.getOwnPropertySymbols", ["missing-static"], "Object.getOwnPropertySymbols({});"],
  ["Promise.race", ["missing-static"], "Promise.race([]);"],
  ["Promise.allSettled", ["missing-static"], "Promise.allSettled([]);"],
  ["Promise.any", ["missing-static"], "Promise.any([]);"],
  [".finally", ["missing-method"], "Promise.resolve(1).finally(function () {});"],
  [".reduceRight", ["missing-method"], "[1, 2].reduceRight(function (a, b) { return a + b; });"],
  [".lastIndexOf (flagged even on strings, conservatively)", ["missing-method"], "'abc'.lastIndexOf('b');"],
  [".flat", ["missing-method"], "[[1]].flat();"],
  [".flatMap", ["missing-method"], "[1].flatMap(function (x) { return [x]; });"],
  [".at", ["missing-method"], "[1, 2].at(-1);"],
  ["Array.prototype reference", ["builtin-prototype"], "var slice = Array.prototype.slice;"],
  ["Object.prototype method", ["builtin-prototype"], "Object.prototype.hasOwnProperty.call({}, 'a');"],
  ["Uint8Array.prototype reference", ["builtin-prototype"], "var set = Uint8Array.prototype.set;"],
  ["ArrayBuffer.prototype.slice", ["builtin-prototype"], "var s = ArrayBuffer.prototype.slice;"],
  ["slice of a typed array's buffer", ["arraybuffer-slice"], "var u = new Uint8Array(4); var b = u.buffer.slice(1);"],
  ["slice of a typed array (a plain Array on Espruino)", ["typedarray-slice"], "var u = new Uint8Array(4); var c = u.slice(1);"],
  ["slice of a subarray view", ["typedarray-slice"], "var u = new Uint8Array(4); var c = u.subarray(1, 3).slice();"],
  ["slice of a receiver the gate cannot type", ["typedarray-slice"], "function f(x) { return x.slice(0, 2); }"],
  ["class extends Error", ["extends-builtin"], "class Oops extends Error {}"],
  ["class extends Array", ["extends-builtin"], "var List = class extends Array {};"],
  ["regex {n,m}", ["regex"], "var r = /a{2,3}/;"],
  ["regex \\b", ["regex"], "var r = /\\bword/;"],
  ["regex (?:)", ["regex"], "var r = /(?:ab)+/;"],
  ["regex lookahead", ["regex"], "var r = /a(?=b)/;"],
  ["regex lookbehind", ["regex"], "var r = /(?<=a)b/;"],
  ["regex named group", ["regex"], "var r = /(?<year>\\d+)/;"],
  ["new RegExp with an unsupported pattern", ["regex"], "var r = new RegExp('(?:x)');"],
  ["let loop variable captured by a closure", ["loop-closure"], "for (let i = 0; i < 3; i++) setTimeout(function () { print(i); }, 0);"],
  ["const for-of variable captured by an arrow", ["loop-closure"], "var fs = []; for (const x of [1, 2]) fs.push(() => x);"],
  ["call before the declaration", ["hoisting"], "start(); function start() {}"],
  ["reference before the declaration", ["hoisting"], "setTimeout(tick, 10); function tick() {}"],
  ["call inside a block before the declaration", ["hoisting"], "function f() { if (true) { g(); } function g() {} }"],
  ["IIFE runs before the declaration", ["hoisting"], "(function () { later(); })(); function later() {}"],
  ["declared function calls a later one", ["hoisting"], "function a() { b(); } a(); function b() {}"],
  ["through two calls", ["hoisting"], "function a() { b(); } function b() { c(); } a(); function c() {}"],
  ["constructor calls a later one", ["hoisting"], "class Store { constructor() { this.n = count(); } } new Store(); function count() { return 1; }"],
  ["field initializer of a class expression calls a later one", ["hoisting"], "var Store = class { n = count(); }; var s = new Store(); function count() { return 1; }"],
  ["e.name on a caught error", ["error-name"], "function f() {} try { f(); } catch (e) { print(e.name); }"],
  ["bare return before a line break", ["return-newline"], "function f() { return\n42; }"],
];

for (const [title, expected, code] of rejected) {
  test(`rejects ${title}`, (t) => {
    t.deepEqual(rules(code), [...expected].sort(), code);
  });
}

test("a finding carries a message and the bundle position", (t) => {
  const [finding] = gate("var ok = 1;\nvar m = new Map();");
  t.is(finding.rule, "missing-global");
  t.is(finding.line, 2);
  t.is(finding.column, 12);
  t.regex(finding.message, /Map/);
  t.is(formatFinding(finding, "PUCKJS/pstore.js"), `PUCKJS/pstore.js:2:13 missing-global ${finding.message}`);
});

test("a syntax error is a finding, not an exception", (t) => {
  const findings = gate("var = ;");
  t.is(findings.length, 1);
  t.is(findings[0].rule, "syntax");
});

test("what Espruino runs passes: arrow functions, classes, templates, for…of, let/const, ??, typed arrays, DataView", (t) => {
  const code = `
    const double = (x) => x * 2;
    class Base { constructor(n) { this.n = n; } get twice() { return double(this.n); } static make() { return new Base(1); } }
    class Child extends Base { constructor() { super(2); this.extra = 1; } get twice() { return super.twice + 1; } }
    let total = 0;
    for (const v of [1, 2, 3]) total += v;
    for (let i = 0; i < 3; i++) total += i;
    for (let i = 0; i < 3; i++) { const copy = i; setTimeout(() => print(copy), 0); }
    const label = \`total \${total}\`;
    const fallback = null ?? "default";
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0xdeadbeef, true);
    const merged = Object.assign({}, { a: 1 }, { b: 2 });
    const keys = Object.keys(merged).concat(Array.isArray(keys) ? [] : []);
    const part = new Uint8Array(bytes.subarray(1, 3));
    const found = [1, 2].find((x) => x > 1) + [1, 2].findIndex((x) => x > 1) + "ab".indexOf("b") + "abc".padStart(5).length;
    const shorthand = { total, double, method() { return 1; } };
    try { JSON.parse("{"); } catch { print("bad json"); }
    Promise.all([Promise.resolve(1)]).then((r) => print(r)).catch((e) => print(String(e)));
    const re = /^[a-z]+\\d{0}[\\b]*$/i;
    const max = Math.max(Math.pow(2, 3), Math.floor(Math.random() * 4), Number.MAX_VALUE > 0 ? 1 : 0);
    const Map = {}; Map.set = 1;
    function later() { return neverCalledYet(); }
    function neverCalledYet() { return 1; }
    setTimeout(later, 10);
  `;
  // `{0}` is a quantifier: it must be caught even in an otherwise clean sample.
  t.deepEqual(rules(code), ["regex"]);
  t.deepEqual(rules(code.replace("\\d{0}", "\\d*")), []);
});

test("TypeScript compiled by esbuild for the device (enums, const enums, fields, parameter properties, super) passes", async (t) => {
  const source = `
    enum Kind { Dmesg = 1, Console = 2 }
    const enum Flag { On = 1 }
    class Record { payload = new Uint8Array(4); constructor(public kind: Kind, readonly seq: number) {} get size() { return this.payload.length; } }
    class Crash extends Record { static count = 0; constructor(seq: number) { super(Kind.Dmesg, seq); Crash.count++; } get size() { return super.size + Flag.On; } }
    const all: Record[] = [new Crash(1), new Record(Kind.Console, 2)];
    let text = "";
    for (const r of all) text += \`\${Kind[r.kind]}:\${r.size} \`;
    export const summary = text + (all[5]?.seq ?? -1) + 2 ** 3;
  `;
  const result = await esbuild.transform(source, { loader: "ts", format: "iife", target: "es2015", minify: true });
  t.deepEqual(gate(result.code), []);
});

test("hoisting: a call that runs later, inside a function body, is accepted", (t) => {
  t.deepEqual(rules("function main() { helper(); } function helper() {} main();"), []);
  t.deepEqual(rules("var handler = function () { helper(); }; function helper() {} handler();"), []);
  t.deepEqual(rules("setTimeout(function () { helper(); }, 0); function helper() {}"), []);
  t.deepEqual(rules("class Store { constructor() { this.n = count(); } } function count() { return 1; } new Store();"), []);
  t.deepEqual(rules("class Store { later() { return count(); } } var s = new Store(); function count() { return 1; }"), []);
});

test("hoisting: the rewrite moves declarations up, the rewritten output passes, and it still computes the same", (t) => {
  const code = `"use strict";var out=[];out.push(first(1));function first(x){return second(x)+1}
function wrap(){out.push(inner());function inner(){return 5}}wrap();{out.push(block());function block(){return 7}}
function second(x){return x*2}`;
  t.true(gate(code).filter((finding) => finding.rule === "hoisting").length >= 3);
  const hoisted = hoistFunctionDeclarations(code);
  t.true(hoisted.moved >= 3);
  t.deepEqual(gate(hoisted.code), []);
  t.true(hoisted.code.startsWith('"use strict";function first'));
  t.deepEqual(runInNewContext(`${hoisted.code};out`), runInNewContext(`${code};out`));
});

test("loop variables used directly in the loop body, or copied before capture, are fine", (t) => {
  t.deepEqual(rules("var s = 0; for (let i = 0; i < 3; i++) { s += i; }"), []);
  t.deepEqual(rules("for (let i = 0; i < 3; i++) { (function () { print(i); })(); }"), []);
  t.deepEqual(rules("for (var i = 0; i < 3; i++) { setTimeout(function () { print(i); }, 0); }"), []);
});

test("slice of what is certainly a string or an Array passes", (t) => {
  const code = "var a = [1, 2, 3].slice(1); var b = 'abc'.slice(1); var c = 'a,b'.split(',').slice(1); var d = [].slice.call(new Uint8Array(2), 0, 1); var e = [1].concat([2]).slice(0); var f = String(5).slice(0); var g = `x${a}`.slice(1);";
  t.deepEqual(gate(code), []);
});

test("a local variable that shadows a missing built-in is not a global reference", (t) => {
  t.deepEqual(rules("function f(Set) { return Set.has(1); } var Symbol = 'x'; Symbol.length;"), []);
  t.deepEqual(rules("var Math = { trunc: function (x) { return x | 0; } }; Math.trunc(1.5);"), []);
});

test("regexProblems reads escapes and character classes", (t) => {
  t.deepEqual(regexProblems("[\\b]\\{2}\\(?:"), []);
  t.deepEqual(regexProblems("a{2}"), ["{n,m} quantifier"]);
  t.deepEqual(regexProblems("a{,2}"), []);
  t.deepEqual(regexProblems("(?!x)\\B"), ["(?=...)/(?!...) (lookahead)", "\\B (word boundary)"]);
});

test("source maps: VLQ mappings survive a decode/encode round trip", (t) => {
  const mappings = "AAAA,SAASA,GAAG;;AACA,cAAc,CAAC,KAAK;AAClB";
  t.is(encodeMappings(decodeMappings(mappings)), mappings);
});

test("source-mapped findings name the original .ts file and line, and the original identifier", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pstore-gate-"));
  const entry = join(dir, "device.ts");
  writeFileSync(
    entry,
    [
      "// line 1",
      "function measure(values: number[]): number {",
      "  const biggest = Math.max.apply(null, values);",
      "  return Math.trunc(biggest);",
      "}",
      "print(startEarly());",
      "function startEarly(): number { return measure([1.5]); }",
      "declare function print(value: unknown): void;",
    ].join("\n"),
  );
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "iife",
    target: "es2015",
    minify: true,
    sourcemap: "external",
    write: false,
    outfile: join(dir, "out.js"),
  });
  const code = result.outputFiles.find((file) => file.path.endsWith(".js"))!.text;
  const map = JSON.parse(result.outputFiles.find((file) => file.path.endsWith(".map"))!.text) as SourceMap;
  const findings = gate(code, map);
  const trunc = findings.find((finding) => finding.rule === "missing-static");
  t.truthy(trunc);
  t.regex(trunc!.source!.file, /device\.ts$/);
  t.is(trunc!.source!.line, 4);
  const early = findings.find((finding) => finding.rule === "hoisting");
  t.truthy(early);
  t.is(early!.source!.line, 6);
  t.regex(early!.message, /^startEarly is used before/);
  t.regex(formatFinding(early!), /device\.ts:6 hoisting /);

  // The rewrite keeps the map right for the findings that remain.
  const hoisted = hoistFunctionDeclarations(code, map);
  const after = gate(hoisted.code, hoisted.map);
  t.deepEqual(after.map((finding) => finding.rule), ["missing-static"]);
  t.is(after[0].source!.line, 4);
});

test("the locator falls back to nothing outside mapped code", (t) => {
  const locate = createLocator({ version: 3, sources: ["a.ts"], names: [], mappings: ";AAAA" });
  t.is(locate(1, 0), undefined);
  t.deepEqual(locate(2, 5), { file: "a.ts", line: 1, column: 0 });
});

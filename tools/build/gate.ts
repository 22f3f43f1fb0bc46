// The Espruino compatibility gate: finds every construct in a bundle that the Espruino interpreter lacks or
// runs differently from Node (shared/ESPRUINO.md §1), and names the original file and line via the source map.
// The built-in tables below follow Espruino 2v29's src/jswrap_*.c: a name is allowed only when the firmware
// defines it, so an unknown helper is rejected rather than assumed.
//
// Limits, all on the side of caution or stated here: instance methods (`.at(`, `.lastIndexOf(`, ...) are matched
// by name on any receiver, since types are gone in a bundle; an ArrayBuffer's `.slice(` is caught only where the
// receiver is visibly one (`x.buffer.slice(`, `new ArrayBuffer(n).slice(`, `ArrayBuffer.prototype`); any other `.slice(`
// is refused unless its receiver is certainly a string or an Array (a literal, or what split/join/concat/String()
// return), since a typed array's slice gives a plain Array there; `subarray(start, end)` with an end past the
// length (Espruino does not clamp it) cannot be told statically: the simulator reproduces it instead; the hoisting
// check follows direct calls of function declarations and `new` of classes, not calls through variables,
// properties or callbacks; Math.sign is rejected because only recent firmware has it.

import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { analyzeScopes, crossesDeferredFunction, type Reference, type ScopeAnalysis } from "./scope";
import { createLocator, lineStarts, type OriginalPosition, type SourceMap } from "./sourcemap";

export type RuleId =
  | "syntax"
  | "destructuring"
  | "spread"
  | "rest"
  | "default-param"
  | "optional-chaining"
  | "exponent"
  | "logical-assignment"
  | "label"
  | "computed-key"
  | "tagged-template"
  | "private-field"
  | "static-block"
  | "generator"
  | "async"
  | "bigint"
  | "missing-global"
  | "missing-static"
  | "missing-method"
  | "builtin-prototype"
  | "arraybuffer-slice"
  | "typedarray-slice"
  | "extends-builtin"
  | "regex"
  | "loop-closure"
  | "hoisting"
  | "error-name"
  | "return-newline"
  | "float64array";

export interface Finding {
  rule: RuleId;
  message: string;
  /** Position in the bundle: 1-based line, 0-based column. */
  line: number;
  column: number;
  /** Position in the original source, when the source map covers it. */
  source?: OriginalPosition;
}

/** Globals Espruino does not define at all. */
const MISSING_GLOBALS: Record<string, string> = {
  Map: "use a plain object or parallel arrays",
  Set: "use a plain object with true values",
  WeakMap: "store the value on the object",
  WeakSet: "mark the object with a property",
  WeakRef: "hold a normal reference",
  FinalizationRegistry: "release resources explicitly",
  Symbol: "use a string key",
  Proxy: "write explicit accessors",
  Reflect: "use Object.* or call methods directly",
  BigInt: "use two 32-bit numbers",
  TextEncoder: "build bytes in a Uint8Array (E.toUint8Array)",
  TextDecoder: "use E.toString",
  queueMicrotask: "use Promise.resolve().then or setTimeout",
  setImmediate: "use setTimeout(fn, 0)",
  RangeError: "throw Error or TypeError",
  EvalError: "throw Error or TypeError",
  URIError: "throw Error or TypeError",
  AggregateError: "throw Error",
  SharedArrayBuffer: "use ArrayBuffer",
  Atomics: "Espruino is single-threaded",
  structuredClone: "copy explicitly",
};

/** Constructors Espruino has; `X.prototype` of these is not reachable and none of them may be extended. */
const BUILTIN_CONSTRUCTORS = new Set([
  "Object", "Function", "Array", "String", "Number", "Boolean", "ArrayBuffer", "DataView", "Uint8Array",
  "Uint8ClampedArray", "Int8Array", "Uint16Array", "Int16Array", "Uint24Array", "Uint32Array", "Int32Array",
  "Float32Array", "Float64Array", "Promise", "RegExp", "Date", "Error", "TypeError", "SyntaxError",
  "ReferenceError", "InternalError",
]);

const TYPED_ARRAYS = [...BUILTIN_CONSTRUCTORS].filter((name) => name.endsWith("Array") && name !== "Array");

/**
 * Static members Espruino defines, per built-in. Members not listed are missing.
 * Math.sign exists only in recent firmware, so it is left out deliberately.
 */
const ALLOWED_STATICS: Record<string, Set<string>> = {
  Math: new Set([
    "E", "PI", "LN2", "LN10", "LOG2E", "LOG10E", "SQRT2", "SQRT1_2", "abs", "acos", "asin", "atan", "atan2",
    "cos", "pow", "random", "randInt", "round", "sin", "tan", "sqrt", "ceil", "floor", "exp", "log", "clip",
    "wrap", "min", "max",
  ]),
  Number: new Set(["NaN", "MAX_VALUE", "MIN_VALUE", "NEGATIVE_INFINITY", "POSITIVE_INFINITY"]),
  Object: new Set([
    "keys", "getOwnPropertyNames", "values", "entries", "fromEntries", "create", "getOwnPropertyDescriptor",
    "getOwnPropertyDescriptors", "defineProperty", "defineProperties", "getPrototypeOf", "setPrototypeOf", "assign",
  ]),
  Array: new Set(["isArray"]),
  Promise: new Set(["all", "resolve", "reject"]),
  String: new Set(["fromCharCode"]),
  JSON: new Set(["stringify", "parse"]),
  ArrayBuffer: new Set(),
  DataView: new Set(),
  Error: new Set(),
  TypeError: new Set(),
  SyntaxError: new Set(),
  ReferenceError: new Set(),
  InternalError: new Set(),
  ...Object.fromEntries(TYPED_ARRAYS.map((name) => [name, new Set<string>()])),
};

/** Members every function has, so they are fine on any built-in constructor. */
const FUNCTION_MEMBERS = new Set(["call", "apply", "bind", "toString", "valueOf", "name", "length", "hasOwnProperty"]);

/** Instance methods Espruino lacks on arrays, typed arrays or strings. Matched on any receiver, by name. */
const MISSING_METHODS: Record<string, string> = {
  reduceRight: "Espruino arrays have no reduceRight: loop backwards",
  lastIndexOf:
    "Espruino arrays and typed arrays have no lastIndexOf (strings do, but the gate cannot tell them apart): loop backwards, or use a string method under another name",
  flat: "Espruino arrays have no flat: concat the parts",
  flatMap: "Espruino arrays have no flatMap: map then concat",
  at: "Espruino has no .at(): index with x[x.length - n]",
  finally: "Espruino promises have no finally: handle both then and catch",
  findLast: "Espruino arrays have no findLast: loop backwards",
  findLastIndex: "Espruino arrays have no findLastIndex: loop backwards",
  copyWithin: "Espruino has no copyWithin: use set(subarray(...))",
  trimStart: "Espruino strings have no trimStart",
  trimEnd: "Espruino strings have no trimEnd",
  matchAll: "Espruino strings have no matchAll: loop with RegExp.exec",
  codePointAt: "Espruino strings have no codePointAt: use charCodeAt",
};

function ruleForPattern(pattern: acorn.AnyNode): RuleId {
  return pattern.type === "RestElement" ? "rest" : pattern.type === "AssignmentPattern" ? "default-param" : "destructuring";
}

/** Problems in a regular expression source that Espruino's matcher does not support (it fails to match silently). */
export function regexProblems(pattern: string): string[] {
  const problems = new Set<string>();
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      const next = pattern[i + 1];
      if (!inClass && (next === "b" || next === "B")) problems.add(`\\${next} (word boundary)`);
      if (next === "k" && pattern[i + 2] === "<") problems.add("\\k<name> (named back-reference)");
      if (next === "p" || next === "P") problems.add(`\\${next}{...} (Unicode property)`);
      i++;
      continue;
    }
    if (inClass) {
      if (char === "]") inClass = false;
      continue;
    }
    if (char === "[") inClass = true;
    else if (char === "(" && pattern[i + 1] === "?") {
      const kind = pattern.slice(i + 2, i + 4);
      if (kind.startsWith(":")) problems.add("(?:...) (non-capturing group)");
      else if (kind.startsWith("=") || kind.startsWith("!")) problems.add("(?=...)/(?!...) (lookahead)");
      else if (kind === "<=" || kind === "<!") problems.add("(?<=...)/(?<!...) (lookbehind)");
      else if (kind.startsWith("<")) problems.add("(?<name>...) (named group)");
      else problems.add("(?...) group");
    } else if (char === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
      problems.add("{n,m} quantifier");
    }
  }
  return [...problems];
}

interface Context {
  code: string;
  scopes: ScopeAnalysis;
  report(rule: RuleId, node: acorn.AnyNode | acorn.Node, message: string): void;
  isGlobal(node: acorn.AnyNode | null | undefined, name?: string): boolean;
  nameOf(id: acorn.Identifier): string;
  /** Where a node is, for messages: original file:line when known. */
  where(node: acorn.AnyNode): string;
}

function memberName(node: acorn.MemberExpression): string | undefined {
  if (!node.computed && node.property.type === "Identifier") return node.property.name;
  if (node.computed && node.property.type === "Literal" && typeof node.property.value === "string") return node.property.value;
  return undefined;
}

function checkSyntax(program: acorn.Program, context: Context): void {
  const { report, isGlobal } = context;
  walk.fullAncestor(program, (node, _state, ancestors) => {
    const parent = ancestors[ancestors.length - 2];
    switch (node.type) {
      case "VariableDeclarator":
        if (node.id.type !== "Identifier") report("destructuring", node.id, "destructuring declaration: assign each property separately");
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        for (const param of node.params) {
          if (param.type === "Identifier") continue;
          const rule = ruleForPattern(param);
          report(rule, param, rule === "default-param"
            ? "default parameter value: test for undefined in the body"
            : rule === "rest" ? "rest parameter: use `arguments`" : "destructuring parameter: take the object and read its fields");
        }
        if (node.generator) report("generator", node, "generator function: write an explicit iterator or callback");
        if (node.async) report("async", node, "async function: use Promise .then chains");
        break;
      case "AssignmentExpression":
        if (node.left.type === "ObjectPattern" || node.left.type === "ArrayPattern") {
          report("destructuring", node.left, "destructuring assignment: assign each property separately");
        }
        if (node.operator === "**=") report("exponent", node, "`**=`: use x = Math.pow(x, y)");
        if (node.operator === "??=" || node.operator === "||=" || node.operator === "&&=") {
          report("logical-assignment", node, `\`${node.operator}\`: write the if/assignment out`);
        }
        break;
      case "ForInStatement":
      case "ForOfStatement": {
        const target = node.left.type === "VariableDeclaration" ? node.left.declarations[0].id : node.left;
        if (target.type === "ObjectPattern" || target.type === "ArrayPattern") {
          report("destructuring", target, "destructuring loop variable: read the fields inside the loop");
        }
        if (node.type === "ForOfStatement" && node.await) report("async", node, "for await: iterate with Promise chains");
        break;
      }
      case "CatchClause":
        if (node.param && node.param.type !== "Identifier") report("destructuring", node.param, "destructuring catch parameter");
        break;
      case "SpreadElement":
        report("spread", node, "spread `...`: use apply, concat or Object.assign");
        break;
      case "RestElement":
        // Rest parameters were reported with their function; this is a rest element inside a pattern.
        if (parent && parent.type !== "FunctionDeclaration" && parent.type !== "FunctionExpression" && parent.type !== "ArrowFunctionExpression") {
          report("rest", node, "rest element `...` in destructuring");
        }
        break;
      case "ObjectPattern":
        // acorn-walk visits an object pattern's rest element through its argument only.
        for (const property of node.properties) {
          if (property.type === "RestElement") report("rest", property, "rest element `...` in destructuring");
        }
        break;
      case "ChainExpression":
        report("optional-chaining", node, "optional chaining `?.`: test for null explicitly");
        break;
      case "BinaryExpression":
        if (node.operator === "**") report("exponent", node, "`**`: use Math.pow");
        if (node.left.type === "PrivateIdentifier") report("private-field", node.left, "`#field in obj`: private fields do not exist");
        break;
      case "LabeledStatement":
        report("label", node, `label \`${node.label.name}:\`: restructure with a flag or a function and return`);
        break;
      case "ObjectExpression":
        for (const property of node.properties) {
          if (property.type === "Property" && property.computed) {
            report("computed-key", property.key, "computed property key `{[k]: v}`: create the object, then assign obj[k] = v");
          }
        }
        break;
      case "ClassBody":
        for (const element of node.body) {
          if (element.type === "StaticBlock") report("static-block", element, "class static block: run the code after the class");
          else {
            if (element.computed) report("computed-key", element.key, "computed class member key");
            if (element.key.type === "PrivateIdentifier") report("private-field", element.key, `#${element.key.name}: private members do not exist; use a plain (or _prefixed) member`);
          }
        }
        break;
      case "MemberExpression":
        if (node.property.type === "PrivateIdentifier") report("private-field", node.property, `#${node.property.name}: private members do not exist`);
        checkMember(node, context);
        break;
      case "TaggedTemplateExpression":
        report("tagged-template", node, "tagged template: call the function with the parts");
        break;
      case "YieldExpression":
        report("generator", node, "yield: generators do not exist");
        break;
      case "AwaitExpression":
        report("async", node, "await: use Promise .then chains");
        break;
      case "Literal":
        if ("bigint" in node && node.bigint !== undefined) report("bigint", node, "BigInt literal: BigInt does not exist");
        if ("regex" in node && node.regex) checkRegex(node.regex.pattern, node, context);
        break;
      case "NewExpression":
      case "CallExpression":
        if (node.callee.type === "Identifier" && node.callee.name === "RegExp" && isGlobal(node.callee)) {
          const source = node.arguments[0];
          if (source?.type === "Literal" && typeof source.value === "string") checkRegex(source.value, source, context);
        }
        if (node.type === "CallExpression" && node.callee.type === "MemberExpression") checkMethodCall(node.callee, context);
        break;
      case "ClassDeclaration":
      case "ClassExpression":
        if (node.superClass?.type === "Identifier" && isGlobal(node.superClass) && (BUILTIN_CONSTRUCTORS.has(node.superClass.name) || node.superClass.name in MISSING_GLOBALS)) {
          report("extends-builtin", node.superClass, `class extends ${node.superClass.name}: built-ins cannot be subclassed; wrap the value or throw a plain Error`);
        }
        break;
      case "ReturnStatement":
        checkReturn(node, context);
        break;
    }
  });
}

function checkRegex(pattern: string, node: acorn.AnyNode, context: Context): void {
  for (const problem of regexProblems(pattern)) {
    context.report("regex", node, `regular expression /${pattern}/ uses ${problem}, which Espruino silently fails to match`);
  }
}

function checkMember(node: acorn.MemberExpression, context: Context): void {
  const name = memberName(node);
  if (name === undefined || node.object.type !== "Identifier" || !context.isGlobal(node.object)) return;
  const owner = node.object.name;
  if (name === "prototype") {
    if (BUILTIN_CONSTRUCTORS.has(owner)) {
      context.report("builtin-prototype", node, `${owner}.prototype is undefined on Espruino: call the method on an instance, e.g. [].slice.call(x)${owner === "ArrayBuffer" ? " (ArrayBuffer.prototype.slice does not exist at all: copy with new Uint8Array(new Uint8Array(buf, start, len)))" : ""}`);
    }
    return;
  }
  const allowed = ALLOWED_STATICS[owner];
  if (allowed && !allowed.has(name) && !FUNCTION_MEMBERS.has(name)) {
    context.report("missing-static", node, `${owner}.${name} does not exist on Espruino`);
  }
}

function checkMethodCall(callee: acorn.MemberExpression, context: Context): void {
  const name = memberName(callee);
  if (name === undefined) return;
  // Statics on built-ins are judged by checkMember.
  if (callee.object.type === "Identifier" && ALLOWED_STATICS[callee.object.name] && context.isGlobal(callee.object)) return;
  if (Object.hasOwn(MISSING_METHODS, name)) {
    context.report("missing-method", callee.property, `.${name}(): ${MISSING_METHODS[name]}`);
  }
  // An ArrayBuffer's slice does not exist; `x.buffer.slice(` and `new ArrayBuffer(n).slice(` are certainly one.
  const receiver = callee.object;
  if (name === "slice") {
    const isBuffer =
      (receiver.type === "MemberExpression" && memberName(receiver) === "buffer") ||
      (receiver.type === "NewExpression" && receiver.callee.type === "Identifier" && receiver.callee.name === "ArrayBuffer");
    if (isBuffer) {
      context.report("arraybuffer-slice", callee.property, "ArrayBuffer.prototype.slice does not exist: copy a view, new Uint8Array(new Uint8Array(buf, start, len))");
    } else if (!isStringOrArray(receiver)) {
      context.report(
        "typedarray-slice",
        callee.property,
        ".slice() of a typed array returns a plain Array on Espruino (no subarray, set or buffer), and the gate cannot tell what this receiver is: copy bytes with new Uint8Array(view) (pstore/bytes.ts copy), slice an Array as [].slice.call(list, start, end), a string with substring()",
      );
    }
  }
}

/** Receivers whose `.slice(` is certainly a string's or an Array's: literals, and results of calls that make one. */
function isStringOrArray(node: acorn.AnyNode): boolean {
  if (node.type === "ArrayExpression" || node.type === "TemplateLiteral") return true;
  if (node.type === "Literal") return typeof node.value === "string";
  if (node.type === "CallExpression" && node.callee.type === "MemberExpression") {
    return ["split", "join", "concat", "substring", "substr", "toString", "padStart", "padEnd"].includes(memberName(node.callee) ?? "");
  }
  return node.type === "CallExpression" && node.callee.type === "Identifier" && (node.callee.name === "String" || node.callee.name === "btoa" || node.callee.name === "atob");
}

function checkReturn(node: acorn.ReturnStatement, context: Context): void {
  // Espruino does not insert a semicolon after a bare `return` at a line end: `return\nx` returns x.
  if (node.argument || context.code[node.end - 1] === ";") return;
  const rest = context.code.slice(node.end).replace(/^(\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*/, "");
  if (rest === "" || rest.startsWith("}") || rest.startsWith(";") || /^(case|default)\b/.test(rest)) return;
  context.report("return-newline", node, "bare `return` followed by a line break: Espruino returns the next line's value; add a semicolon");
}

function checkGlobals(context: Context): void {
  for (const reference of context.scopes.references) {
    if (reference.binding) continue;
    const name = reference.id.name;
    if (Object.hasOwn(MISSING_GLOBALS, name)) {
      context.report("missing-global", reference.id, `${name} does not exist on Espruino: ${MISSING_GLOBALS[name]}`);
    }
    if (name === "Float64Array") {
      context.report(
        "float64array",
        reference.id,
        "Float64Array does not hold numbers exactly on the Bangle.js 2 firmware (its emulator build 2v29.74 keeps only the high word of each element): keep numbers in a plain Array, 32-bit ones in a Uint32Array",
      );
    }
  }
}

function checkLoopClosures(context: Context): void {
  for (const reference of context.scopes.references) {
    const binding = reference.binding;
    if (!binding?.loop || !crossesDeferredFunction(reference, binding)) continue;
    context.report(
      "loop-closure",
      reference.id,
      `\`${binding.kind} ${context.nameOf(binding.id)}\` from a for header is captured by a closure: Espruino shares one binding across iterations, so the closure sees the last value; copy it into a variable declared in the loop body or pass it as an argument`,
    );
  }
}

/**
 * The execution units that run at once when `reference` is evaluated: a called function declaration's body,
 * or a constructed class's constructor and instance field initializers.
 */
function executionsRunBy(reference: Reference): acorn.AnyNode[] {
  const { binding, parent } = reference;
  if (!binding || (parent.type !== "CallExpression" && parent.type !== "NewExpression") || parent.callee !== reference.id) return [];
  if (binding.kind === "function") return [binding.declaration];
  if (parent.type !== "NewExpression") return [];
  const declaration = binding.declaration;
  const classNode =
    declaration.type === "ClassDeclaration" ? declaration
    : declaration.type === "VariableDeclarator" && declaration.init?.type === "ClassExpression" ? declaration.init
    : undefined;
  if (!classNode) return [];
  return classNode.body.body.flatMap((element): acorn.AnyNode[] => {
    if (element.type === "MethodDefinition" && element.kind === "constructor") return [element.value];
    if (element.type === "PropertyDefinition" && !element.static && element.value) return [element];
    return [];
  });
}

/**
 * A function declaration exists on Espruino only once execution reaches it. Rejects references that run
 * before that point in the declaring scope's own execution, directly or through the functions and
 * constructors they call at once.
 */
function checkHoisting(context: Context): void {
  const { scopes } = context;
  for (const reference of scopes.references) {
    const binding = reference.binding;
    if (!binding || reference.execution !== binding.scope.execution) continue;
    const name = context.nameOf(binding.id);
    if (binding.kind === "function" && reference.id.start < binding.declaration.start) {
      context.report("hoisting", reference.id, `${name} is used before its declaration runs (Espruino does not hoist functions): move the declaration above this use`);
      continue;
    }
    const verb = binding.kind === "function" ? "calling" : "constructing";
    const pending = executionsRunBy(reference).map((execution) => ({ execution, via: [name] }));
    const visited = new Set(pending.map((item) => item.execution));
    while (pending.length > 0) {
      const { execution, via } = pending.pop()!;
      for (const inner of scopes.referencesByExecution.get(execution) ?? []) {
        const target = inner.binding;
        if (!target) continue;
        const targetName = context.nameOf(target.id);
        if (target.kind === "function" && target.scope.execution === reference.execution && target.declaration.start > reference.id.start) {
          const chain = [...via, targetName].join(" → ");
          context.report("hoisting", reference.id, `${verb} ${name} here runs ${chain} before ${targetName} is declared (${context.where(target.declaration)}); Espruino does not hoist functions: move the declaration above this ${verb === "calling" ? "call" : "construction"}`);
          continue;
        }
        for (const next of executionsRunBy(inner)) {
          if (visited.has(next)) continue;
          visited.add(next);
          pending.push({ execution: next, via: [...via, targetName] });
        }
      }
    }
  }
}

function checkErrorName(context: Context): void {
  for (const reference of context.scopes.references) {
    const parent = reference.parent;
    if (reference.binding?.kind !== "catch" || parent.type !== "MemberExpression" || parent.object !== reference.id) continue;
    if (memberName(parent) === "name") {
      context.report("error-name", parent, "errors have no .name on Espruino: use String(e) or e.message, or check instanceof");
    }
  }
}

/** Checks `code` (a bundle) and returns every finding, in bundle order. */
export function gate(code: string, map?: SourceMap | string): Finding[] {
  const findings: Finding[] = [];
  const sourceMap: SourceMap | undefined = typeof map === "string" ? JSON.parse(map) : map;
  const locate = sourceMap ? createLocator(sourceMap) : undefined;
  let program: acorn.Program;
  try {
    program = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script" });
  } catch (error) {
    // A bundle with `export`/`import` left over is a module: parse it as one so the other rules still run.
    try {
      program = acorn.parse(code, { ecmaVersion: "latest", sourceType: "module" });
    } catch {
      const { line = 1, column = 0 } = (error as { loc?: { line: number; column: number } }).loc ?? {};
      const finding: Finding = { rule: "syntax", message: (error as Error).message, line, column };
      const source = locate?.(line, column);
      if (source) finding.source = source;
      return [finding];
    }
  }
  // Line and column are worked out only for the few nodes reported: acorn's per-node locations cost more.
  const starts = lineStarts(code);
  const position = (offset: number): { line: number; column: number } => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - starts[low] };
  };
  const seen = new Set<string>();
  const scopes = analyzeScopes(program);
  const context: Context = {
    code,
    scopes,
    report(rule, node, message) {
      const start = position(node.start);
      const key = `${rule}@${node.start}`;
      if (seen.has(key)) return;
      seen.add(key);
      const finding: Finding = { rule, message, line: start.line, column: start.column };
      const source = locate?.(start.line, start.column);
      if (source) finding.source = source;
      findings.push(finding);
    },
    isGlobal(node) {
      return !!node && scopes.globals.has(node);
    },
    nameOf(id) {
      // Minified names mean nothing to a reader; the source map usually remembers the original.
      const { line, column } = position(id.start);
      const original = locate?.(line, column);
      return original?.name ?? id.name;
    },
    where(node) {
      const { line, column } = position(node.start);
      const original = locate?.(line, column);
      return original ? `${original.file}:${original.line}` : `bundle line ${line}`;
    },
  };
  checkSyntax(program, context);
  checkGlobals(context);
  checkLoopClosures(context);
  checkHoisting(context);
  checkErrorName(context);
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return findings;
}

/** `file:line rule message`, with the original file when known, else the bundle's name and position. */
export function formatFinding(finding: Finding, bundleName = "bundle"): string {
  const where = finding.source
    ? `${finding.source.file}:${finding.source.line}`
    : `${bundleName}:${finding.line}:${finding.column + 1}`;
  return `${where} ${finding.rule} ${finding.message}`;
}

export function formatFindings(findings: Finding[], bundleName = "bundle"): string {
  return findings.map((finding) => formatFinding(finding, bundleName)).join("\n");
}

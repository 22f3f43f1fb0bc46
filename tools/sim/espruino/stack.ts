// Error stacks and messages as Espruino 2v29 prints them, derived from V8's call sites.
//
// Espruino reports, per frame, `    at name (:line:col)` (or `    at :line:col` for anonymous code), then the source
// line (printed empty by 2v29 for code inside functions, see test/conformance/recordings) and a caret.
// Positions are counted from the first token of the enclosing function's body, and point at the last token the
// parser had read: the `)` closing a call or `new`, the `.` of a failed property read. V8 points elsewhere (the
// `new`, the callee, the property), so each V8 position is moved with the help of the parsed source.

import * as acorn from "acorn";
import { originalOffset, type Rewritten } from "./rewrite";

export interface SourceFile {
  text: string;
  /** Parsed lazily; null when the text does not parse (then V8 positions are used unchanged). */
  ast?: acorn.Node | null;
  /** Parse as a function body (a module evaluated with `exports`/`module`). */
  functionBody: boolean;
  /** What V8 ran instead (rewrite.ts); V8's positions are in that code. */
  rewritten?: Rewritten;
}

export interface Frame {
  file: string;
  /** 1-based, as V8 reports them. */
  line: number;
  column: number;
  functionName: string | null;
}

type AnyNode = acorn.Node & Record<string, unknown>;

function parse(file: SourceFile): acorn.Node | null {
  if (file.ast !== undefined) return file.ast;
  try {
    file.ast = acorn.parse(file.text, {
      ecmaVersion: "latest",
      sourceType: "script",
      allowReturnOutsideFunction: file.functionBody,
      allowHashBang: true,
    });
  } catch {
    file.ast = null;
  }
  return file.ast;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as AnyNode).type === "string" && typeof (value as AnyNode).start === "number";
}

/** Nodes containing `pos`, outermost first. */
function chainAt(root: acorn.Node, pos: number): AnyNode[] {
  const chain: AnyNode[] = [];
  let node: AnyNode | undefined = root as AnyNode;
  while (node) {
    chain.push(node);
    let next: AnyNode | undefined;
    for (const key of Object.keys(node)) {
      const value = node[key];
      const children = Array.isArray(value) ? value : [value];
      for (const child of children) {
        if (isNode(child) && child.start <= pos && pos < child.end) {
          next = child;
          break;
        }
      }
      if (next) break;
    }
    node = next;
  }
  return chain;
}

function skipSpaceAndComments(text: string, at: number): number {
  for (;;) {
    while (at < text.length && /\s/.test(text[at])) at++;
    if (text.startsWith("//", at)) {
      const end = text.indexOf("\n", at);
      at = end < 0 ? text.length : end;
    } else if (text.startsWith("/*", at)) {
      const end = text.indexOf("*/", at + 2);
      at = end < 0 ? text.length : end + 2;
    } else {
      return at;
    }
  }
}

function backToPunctuator(text: string, at: number, punctuator: string): number {
  let i = at - 1;
  while (i > 0 && text[i] !== punctuator) i--;
  return i;
}

function isFunction(node: AnyNode): boolean {
  return node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";
}

function isCall(node: AnyNode): boolean {
  return node.type === "CallExpression" || node.type === "NewExpression";
}

/** Where Espruino would point, given V8's offset; `top` is the frame that raised the error. */
function espruinoOffset(text: string, chain: AnyNode[], pos: number, top: boolean, intoNative: boolean): number {
  for (let i = chain.length - 1; i >= 0; i--) {
    const node = chain[i];
    if (isFunction(node)) break;
    if (top && node.type === "NewExpression" && node.start === pos) return node.end - 1;
    if (top && node.type === "MemberExpression") {
      const property = node.property as AnyNode;
      if (pos >= property.start) return backToPunctuator(text, property.start, node.computed ? "[" : ".");
    }
    if (isCall(node)) {
      const callee = node.callee as AnyNode;
      if (node.start === pos || (pos >= callee.start && pos < callee.end)) {
        // In a built-in, the interpreter has read the arguments but not yet the `)` (unhandled-rejection recording).
        const args = node.arguments as AnyNode[];
        return intoNative && args.length > 0 ? args[args.length - 1].end - 1 : node.end - 1;
      }
    }
  }
  return pos;
}

/** Start of the code Espruino counts columns from: the first token of the innermost function body, or the file. */
function originOf(text: string, chain: AnyNode[]): number {
  for (let i = chain.length - 1; i >= 0; i--) {
    const node = chain[i];
    if (!isFunction(node)) continue;
    const body = node.body as AnyNode;
    return body.type === "BlockStatement" ? skipSpaceAndComments(text, body.start + 1) : body.start;
  }
  return 0;
}

function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", at);
    if (nl < 0) break;
    at = nl + 1;
  }
  return at + column - 1;
}

/**
 * Where Espruino says the frame is, and whether it is outside every function. `intoNative`: it called a built-in;
 * `atName`: the error is a name that is not defined.
 */
export function espruinoFrame(file: SourceFile, frame: Frame, top: boolean, intoNative = false, atName = false): { line: number; column: number; topLevel: boolean } {
  const ran = file.rewritten;
  const pos = ran ? originalOffset(ran.edits, offsetOf(ran.code, frame.line, frame.column)) : offsetOf(file.text, frame.line, frame.column);
  const ast = parse(file);
  if (!ast) return { line: frame.line, column: frame.column, topLevel: false };
  const chain = chainAt(ast, pos);
  // A name that is not defined fails where the name is, before any call it is part of.
  const target = atName ? pos : espruinoOffset(file.text, chain, pos, top, intoNative);
  const origin = Math.min(originOf(file.text, chain), target);
  const before = file.text.slice(origin, target);
  const lines = before.split("\n");
  const line = lines.length;
  const column = lines.length === 1 ? target - origin + 1 : lines[lines.length - 1].length + 1;
  return { line, column, topLevel: !chain.some(isFunction) };
}

/** The `stack` text of an Espruino error: one entry per frame, `\n`-separated and `\n`-terminated. */
export function formatStack(frames: Array<{ name: string | null; line: number; column: number }>): string {
  let out = "";
  for (const f of frames) {
    const where = `:${f.line}:${f.column}`;
    out += f.name ? `    at ${f.name} (${where})\n` : `    at ${where}\n`;
    out += "\n" + " ".repeat(Math.max(f.column - 1, 0)) + "^\n";
  }
  return out;
}

/** V8 messages that Espruino words differently, from jsparse.c, and the kind of error it raises (plain Error unless said). */
export function espruinoMessage(message: string): { message: string; kind: "Error" | "ReferenceError" } | undefined {
  let m = /^Cannot read properties of (undefined|null) \(reading '(.*)'\)$/.exec(message);
  if (m) return { message: `Can't read property '${m[2]}' of ${m[1]}`, kind: "Error" };
  m = /^Cannot set properties of (undefined|null) \(setting '(.*)'\)$/.exec(message);
  if (m) return { message: `Can't read property '${m[2]}' of ${m[1]}`, kind: "Error" };
  m = /^(?:.*\.)?([A-Za-z_$][\w$]*) is not a function$/.exec(message);
  if (m) return { message: `Function "${m[1]}" not found!`, kind: "Error" };
  m = /^([A-Za-z_$][\w$]*) is not defined$/.exec(message) ?? /^Cannot access '([A-Za-z_$][\w$]*)' before initialization$/.exec(message);
  if (m) return { message: `"${m[1]}" is not defined`, kind: "ReferenceError" };
  return undefined;
}

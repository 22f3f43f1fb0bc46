// Code loaded from a Storage file lives in that file on Espruino: once the file is erased or written anew, calling
// any of its functions throws "Function code is null, not a string" (test/conformance recordings,
// storage-module-rewritten-under-running-code). V8 keeps its own copy, so the simulator puts a check at the start of
// every function of such code, and remembers where it inserted text so error positions still point into the file.

import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** Text inserted into code, at an offset of the original. */
export interface Insert {
  at: number;
  length: number;
}

export interface GuardedCode {
  code: string;
  /** In increasing order of `at`. */
  inserts: Insert[];
}

/** `code` with `check;` run first in every function; unchanged (no inserts) when it does not parse. */
export function guardFunctions(text: string, functionBody: boolean, check: string): GuardedCode {
  let program: acorn.Node;
  try {
    program = acorn.parse(text, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: functionBody, allowHashBang: true });
  } catch {
    return { code: text, inserts: [] };
  }
  const edits: Array<{ at: number; text: string }> = [];
  const visit = (node: acorn.Function): void => {
    const body = node.body as acorn.Node;
    if (body.type === "BlockStatement") edits.push({ at: body.start + 1, text: check + ";" });
    else {
      edits.push({ at: body.start, text: "(" + check + "," });
      edits.push({ at: body.end, text: ")" });
    }
  };
  walk.full(program, (node) => {
    if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") visit(node as acorn.Function);
  });
  edits.sort((a, b) => a.at - b.at);
  let code = "";
  let from = 0;
  for (const e of edits) {
    code += text.slice(from, e.at) + e.text;
    from = e.at;
  }
  code += text.slice(from);
  return { code, inserts: edits.map((e) => ({ at: e.at, length: e.text.length })) };
}

/** The offset in the original text of offset `pos` of the code with `inserts`. */
export function originalOffset(inserts: readonly Insert[], pos: number): number {
  let shift = 0;
  for (const ins of inserts) {
    const start = ins.at + shift;
    if (pos < start) break;
    if (pos < start + ins.length) return ins.at;
    shift += ins.length;
  }
  return pos - shift;
}

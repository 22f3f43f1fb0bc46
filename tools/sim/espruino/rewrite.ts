// What V8 would run differently from Espruino, rewritten before the simulator runs it (test/conformance
// recordings), with every edit remembered so error positions still point into the text as written:
// - No hoisting: a function declaration exists once execution reaches it. At the top of a script it becomes an
//   assignment to the global (`f=function f(){};`), elsewhere a `let` (a call before it fails as "not defined").
// - `let`/`const` in a for header is one binding for the whole loop, not one per iteration:
//   `for(let i=0;c;u)` runs as `{let i=0;for(;c;u)…}`, `for(const x of a)` as `{let x;for(x of a)…}`.
// - Errors the interpreter raises are its own, in kind and words (Can't read property 'x' of undefined, a plain
//   Error): every catch clause first hands its exception to `caught`, which rewords V8's.
// - Code loaded from a Storage file lives in that file: once the file is erased or written anew, calling any of its
//   functions throws "Function code is null, not a string". Every function of such code starts with a `check`.

import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** `removed` characters of the original at `at` replaced by `length` characters. */
export interface Edit {
  at: number;
  removed: number;
  length: number;
}

export interface Rewritten {
  code: string;
  /** In increasing order of `at`, not overlapping. */
  edits: Edit[];
}

export interface RewriteOptions {
  /** The text is a function body (a module run with `exports` and `module`): no global assignments. */
  functionBody: boolean;
  /** A call run first in every function (code from Storage). */
  check?: string;
  /** A function every caught exception goes through first (`catch(e){e=caught(e);…}`). */
  caught?: string;
}

type Node = acorn.AnyNode;

/** `text` as the simulator runs it; unchanged (no edits) when it does not parse, so V8 reports the syntax error. */
export function rewriteForEspruino(text: string, options: RewriteOptions): Rewritten {
  let program: acorn.Program;
  try {
    program = acorn.parse(text, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: options.functionBody, allowHashBang: true });
  } catch {
    return { code: text, edits: [] };
  }
  // `first`: a function's check goes before anything else inserted at the same point (a declaration opening the body).
  const edits: Array<{ at: number; removed: number; text: string; first?: boolean }> = [];
  const insert = (at: number, inserted: string, first = false) => edits.push({ at, removed: 0, text: inserted, first });

  walk.ancestor(program, {
    FunctionDeclaration(node, _state, ancestors) {
      const parent = ancestors[ancestors.length - 2] as Node | undefined;
      if (!parent || !node.id || (parent.type !== "Program" && parent.type !== "BlockStatement")) return;
      const name = node.id.name;
      const scope = [...ancestors.slice(0, -1)].reverse().find(isFunction) as acorn.Function | undefined;
      if (!scope && !options.functionBody) {
        insert(node.start, `${name}=`);
      } else {
        // `let` makes a call before the declaration fail as V8's "not defined"; where the name is also a parameter
        // or a var of the function (minified code reuses names), assigning it is what the declaration would do.
        const others = declarationsIn(scope ?? program, name);
        insert(node.start, others.params + others.vars > 0 ? `${name}=` : others.functions > 1 ? `var ${name}=` : `let ${name}=`);
      }
      insert(node.end, ";");
    },
    ForStatement(node) {
      const init = node.init;
      if (!init || init.type !== "VariableDeclaration" || init.kind === "var") return;
      insert(node.start, `{let ${text.slice(init.declarations[0].start, init.end)};`);
      edits.push({ at: init.start, removed: init.end - init.start, text: "" });
      insert(node.end, "}");
    },
    ForOfStatement(node) {
      loopOver(node);
    },
    CatchClause(node) {
      if (options.caught && node.param?.type === "Identifier") insert(node.body.start + 1, `${node.param.name}=${options.caught}(${node.param.name});`, true);
    },
    ForInStatement(node) {
      loopOver(node);
    },
  });

  function loopOver(node: acorn.ForOfStatement | acorn.ForInStatement): void {
    const left = node.left;
    if (left.type !== "VariableDeclaration" || left.kind === "var") return;
    const target = left.declarations[0].id;
    const names = text.slice(target.start, target.end);
    insert(node.start, `{let ${names};`);
    edits.push({ at: left.start, removed: target.start - left.start, text: "" });
    insert(node.end, "}");
  }

  if (options.check) {
    const check = options.check;
    walk.full(program, (node) => {
      if (node.type !== "FunctionDeclaration" && node.type !== "FunctionExpression" && node.type !== "ArrowFunctionExpression") return;
      const body = (node as acorn.Function).body;
      if (body.type === "BlockStatement") insert(body.start + 1, check + ";", true);
      else {
        insert(body.start, "(" + check + ",", true);
        insert(body.end, ")");
      }
    });
  }

  // Stable by position; at one point checks first, then insertions, then a removal starting there.
  const rank = (e: (typeof edits)[number]) => (e.first ? 0 : e.removed > 0 ? 2 : 1);
  const ordered = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || rank(a.e) - rank(b.e) || a.i - b.i).map((x) => x.e);
  let code = "";
  let from = 0;
  for (const e of ordered) {
    code += text.slice(from, e.at) + e.text;
    from = e.at + e.removed;
  }
  code += text.slice(from);
  return { code, edits: ordered.map((e) => ({ at: e.at, removed: e.removed, length: e.text.length })) };
}

function isFunction(node: Node): boolean {
  return node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";
}

/** How often `name` is a parameter, a var and a function declaration of `scope` itself (not of nested functions). */
function declarationsIn(scope: acorn.Function | acorn.Program, name: string): { params: number; vars: number; functions: number } {
  const count = { params: 0, vars: 0, functions: 0 };
  if ("params" in scope) {
    for (const p of scope.params) if (p.type === "Identifier" && p.name === name) count.params++;
  }
  const visit = (node: Node, top: boolean): void => {
    if (!top && isFunction(node)) {
      if (node.type === "FunctionDeclaration" && node.id?.name === name) count.functions++;
      return;
    }
    if (node.type === "VariableDeclaration" && node.kind === "var") {
      for (const d of node.declarations) if (d.id.type === "Identifier" && d.id.name === name) count.vars++;
    }
    for (const key of Object.keys(node)) {
      const value = (node as unknown as Record<string, unknown>)[key];
      for (const child of Array.isArray(value) ? value : [value]) {
        if (child && typeof child === "object" && typeof (child as Node).type === "string") visit(child as Node, false);
      }
    }
  };
  visit((scope.type === "Program" ? scope : scope.body) as Node, true);
  return count;
}

/** The offset in the original text of offset `pos` of the rewritten code. */
export function originalOffset(edits: readonly Edit[], pos: number): number {
  let shift = 0;
  for (const e of edits) {
    const start = e.at + shift;
    if (pos < start) break;
    if (pos < start + e.length) return e.at;
    shift += e.length - e.removed;
  }
  return pos - shift;
}

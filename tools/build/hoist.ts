// Moves every function declaration to the top of the statement list that declares it, so code that relies on
// JavaScript's hoisting also runs on Espruino, which creates a function only when execution reaches it.
// Moving declarations is exactly what the language does at run time, so Node semantics are unchanged.
// The build uses it only with --hoist: by default the gate rejects such code instead, keeping the source honest.

import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { remapGenerated, type SourceMap } from "./sourcemap";

interface Move {
  /** Where the declaration goes: the start of its statement list, after any directive prologue. */
  to: number;
  from: number;
  end: number;
}

/** A piece of the old text placed in the new text: old [from, end) now starts at `at`. */
interface Piece {
  from: number;
  end: number;
  at: number;
}

function statementLists(program: acorn.Program): acorn.AnyNode[][] {
  const lists: acorn.AnyNode[][] = [program.body];
  walk.full(program, (node) => {
    if (node.type === "BlockStatement" || node.type === "StaticBlock") lists.push(node.body);
  });
  return lists;
}

function isDirective(statement: acorn.AnyNode): boolean {
  return statement.type === "ExpressionStatement" && typeof statement.directive === "string";
}

/** Declarations that sit after other statements in their list (the ones Espruino would create too late). */
function misplacedDeclarations(program: acorn.Program): Move[] {
  const moves: Move[] = [];
  for (const list of statementLists(program)) {
    let leading = 0;
    while (leading < list.length && (isDirective(list[leading]) || list[leading].type === "FunctionDeclaration")) leading++;
    const insertAt = leading < list.length ? list[leading].start : 0;
    for (let i = leading; i < list.length; i++) {
      const statement = list[i];
      if (statement.type === "FunctionDeclaration") moves.push({ to: insertAt, from: statement.start, end: statement.end });
    }
  }
  // A move inside a declaration that itself moves would overlap it: leave it for the next round.
  return moves.filter((inner) => !moves.some((outer) => outer !== inner && outer.from <= inner.from && inner.end <= outer.end));
}

function applyMoves(code: string, moves: Move[]): { code: string; pieces: Piece[] } {
  const sorted = [...moves].sort((a, b) => a.from - b.from);
  const cuts = new Set<number>([0, code.length]);
  for (const move of sorted) cuts.add(move.to).add(move.from).add(move.end);
  const points = [...cuts].sort((a, b) => a - b);
  const pieces: Piece[] = [];
  let out = "";
  const place = (from: number, end: number) => {
    pieces.push({ from, end, at: out.length });
    out += code.slice(from, end);
  };
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i];
    const end = points[i + 1];
    for (const move of sorted) if (move.to === from) place(move.from, move.end);
    if (!sorted.some((move) => move.from <= from && end <= move.end)) place(from, end);
  }
  return { code: out, pieces };
}

export interface HoistResult {
  code: string;
  map?: SourceMap;
  /** How many declarations were moved, over all rounds. */
  moved: number;
}

/** Moves function declarations to the top of their scopes; `map`, if given, is rewritten to match. */
export function hoistFunctionDeclarations(code: string, map?: SourceMap): HoistResult {
  let current = code;
  let currentMap = map;
  let moved = 0;
  for (;;) {
    const program = acorn.parse(current, { ecmaVersion: "latest", sourceType: "script" });
    const moves = misplacedDeclarations(program);
    if (moves.length === 0) return { code: current, map: currentMap, moved };
    const result = applyMoves(current, moves);
    if (currentMap) {
      const pieces = result.pieces;
      currentMap = remapGenerated(currentMap, current, result.code, (offset) => {
        const piece = pieces.find((p) => p.from <= offset && offset < p.end) ?? pieces[pieces.length - 1];
        return piece.at + Math.min(offset - piece.from, piece.end - piece.from);
      });
    }
    current = result.code;
    moved += moves.length;
  }
}

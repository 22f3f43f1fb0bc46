// The simulator's rewrite of code into what Espruino would run (tools/sim/espruino/rewrite.ts): the code still
// parses, behaves as Espruino (no hoisting, one binding per for loop, dead code after its Storage file is gone), and
// every position maps back into the text as written.

import test from "ava";
import vm from "node:vm";
import { originalOffset, rewriteForEspruino } from "../tools/sim/espruino/rewrite";

test("a declaration opening a function body still parses after the body's check", (t) => {
  const { code } = rewriteForEspruino("(function(){function z(){return 1} return z()})()", { functionBody: true, check: "ok()" });
  t.is(vm.runInNewContext(`function ok(){} (function(){return ${code}})()`), 1);
});

test("a function that shares its name with a parameter or a var is assigned, not redeclared", (t) => {
  const { code } = rewriteForEspruino("(function(z){var q; function z(){return 'z'} function q(){return 'q'} return z()+q()})(0)", { functionBody: false });
  t.is(vm.runInNewContext(code), "zq");
});

test("a call before the declaration fails, after it works", (t) => {
  t.throws(() => vm.runInNewContext(rewriteForEspruino("f(); function f(){}", { functionBody: false }).code), { message: /f is not defined/ });
  t.throws(() => vm.runInNewContext(rewriteForEspruino("(function(){g(); function g(){}})()", { functionBody: false }).code), { message: /before initialization/ });
  t.is(vm.runInNewContext(rewriteForEspruino("function f(){return 2} f()", { functionBody: false }).code), 2);
});

test("let and const in a for header are one binding for the loop", (t) => {
  const code = rewriteForEspruino("var fs=[];for(let i=0;i<3;i++)fs.push(function(){return i});for(const x of [7,8])fs.push(function(){return x});fs.map(function(f){return f()}).join()", { functionBody: false }).code;
  t.is(vm.runInNewContext(code), "3,3,3,8,8");
});

test("a catch clause hands its exception to the given function first", (t) => {
  const { code } = rewriteForEspruino("var r; try { null.x } catch (e) { r = e } r", { functionBody: false, caught: "reword" });
  t.is(vm.runInNewContext(`function reword(e){return 'reworded'} ${code}`), "reworded");
});

test("positions in the rewritten code map back to the original text", (t) => {
  const text = "var a=1; f(); function f(){return a}";
  const { code, edits } = rewriteForEspruino(text, { functionBody: false });
  for (const word of ["f()", "return a", "var a"]) t.is(originalOffset(edits, code.indexOf(word)), text.indexOf(word), word);
});

test("code that does not parse is left alone, so V8 reports its syntax error", (t) => {
  t.deepEqual(rewriteForEspruino("function (", { functionBody: false }), { code: "function (", edits: [] });
});

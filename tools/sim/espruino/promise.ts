// Espruino's own Promise (jswrap_promise.c), not V8's: resolutions and reactions run from the interpreter's event
// queue at idle (not as microtasks), only then/catch/resolve/reject/all exist, and a rejection that reaches a
// promise with no reaction becomes the exception "Unhandled promise rejection: <value>" at that moment.
// Evaluated inside the context so every object it makes belongs to the device's realm.

import vm from "node:vm";
import { NATIVE_FILE } from "./realm";

const SOURCE = `(function (queue, espruinoError, unhandled) {
  function hide(o, k, v) { Object.defineProperty(o, k, { value: v, writable: true, configurable: true }); }
  function isFn(f) { return typeof f === "function"; }
  function box(promise) { return { promise: promise, done: false }; }
  function seal(promise, data, resolving, where) {
    var s = promise.__state;
    s.state = resolving ? 2 : 1;
    s.value = data;
    var reactions = resolving ? s.thens : s.catches;
    s.thens = null;
    s.catches = null;
    if (!reactions || reactions.length === 0) {
      if (!resolving) unhandled(data, where);
      return;
    }
    for (var i = 0; i < reactions.length; i++) queueReaction(reactions[i], data, resolving);
  }
  function settle(b, data, resolving, where) {
    if (b.done) return;
    b.done = true;
    if (resolving && data !== null && (typeof data === "object" || typeof data === "function") && isFn(data.then)) {
      if (data === b.promise) throw new Error("Illegal resolving to self");
      var next = box(b.promise);
      try {
        data.then(function (v) { settle(next, v, true); }, function (v) { settle(next, v, false); });
      } catch (e) {
        settle(next, e, false);
      }
      return;
    }
    seal(b.promise, data, resolving, where);
  }
  function queueSettle(b, data, resolving, where) { queue(function () { settle(b, data, resolving, where); }); }
  // Where a rejection was made: the firmware reports an unhandled one from there.
  function here() { return new Error().stack; }
  function queueReaction(reaction, data, isThen) {
    queue(function () {
      var result = data, ok = isThen;
      if (reaction.cb) {
        try { result = reaction.cb(data); ok = true; } catch (e) { result = espruinoError(e); ok = false; }
      }
      settle(reaction.box, result, ok);
    });
  }
  function pending(promise) { hide(promise, "__state", { state: 0, value: undefined, thens: [], catches: [] }); }
  function Promise(executor) {
    if (!isFn(executor)) throw new Error("Function required in promise constructor");
    pending(this);
    var b = box(this);
    try {
      executor(function (v) { queueSettle(b, v, true); }, function (v) { queueSettle(b, v, false, here()); });
    } catch (e) {
      queueSettle(b, espruinoError(e), false);
    }
  }
  function blank() { var p = Object.create(Promise.prototype); pending(p); return p; }
  hide(Promise.prototype, "then", function (onFulfilled, onRejected) {
    var next = blank(), b = box(next), s = this.__state;
    var onThen = { cb: isFn(onFulfilled) ? onFulfilled : null, box: b };
    var onCatch = { cb: isFn(onRejected) ? onRejected : null, box: b };
    if (s.state === 0) {
      s.thens.push(onThen);
      s.catches.push(onCatch);
    } else {
      queueReaction(s.state === 2 ? onThen : onCatch, s.value, s.state === 2);
    }
    return next;
  });
  hide(Promise.prototype, "catch", function (onRejected) { return this.then(undefined, onRejected); });
  hide(Promise, "resolve", function (data) {
    if (data instanceof Promise) return data;
    if (data !== null && typeof data === "object" && isFn(data.then)) {
      return new Promise(function (res, rej) { data.then(res, rej); });
    }
    var p = blank();
    queueSettle(box(p), data, true);
    return p;
  });
  hide(Promise, "reject", function (data) {
    var p = blank();
    queueSettle(box(p), data, false, here());
    return p;
  });
  hide(Promise, "all", function (items) {
    var p = blank(), b = box(p), results = [], remaining = 0, failed = false;
    for (var i = 0; i < items.length; i++) {
      if (items[i] instanceof Promise) {
        remaining++;
        (function (index) {
          items[index].then(function (v) {
            results[index] = v;
            if (--remaining === 0 && !failed) queueSettle(b, results, true);
          }, function (e) {
            if (!failed) { failed = true; queueSettle(b, e, false); }
          });
        })(i);
      } else {
        results[i] = items[i];
      }
    }
    if (remaining === 0) queueSettle(b, results, true);
    return p;
  });
  return Promise;
})`;

/**
 * Installs `Promise` on the context's global. `queue` runs a job from the event queue at idle; `espruinoError` turns
 * an exception a callback threw into the interpreter's own; `unhandled` is called (from such a job) with the value
 * of a rejection nobody handles and the stack where it was rejected, when known.
 */
export function installPromise(
  context: vm.Context,
  queue: (job: () => void) => void,
  espruinoError: (thrown: unknown) => unknown,
  unhandled: (value: unknown, where?: string) => void,
): void {
  const factory = new vm.Script(SOURCE, { filename: NATIVE_FILE }).runInContext(context) as (
    q: (job: () => void) => void,
    c: (thrown: unknown) => unknown,
    u: (value: unknown, where?: string) => void,
  ) => unknown;
  const global = vm.runInContext("this", context) as Record<string, unknown>;
  Object.defineProperty(global, "Promise", { value: factory(queue, espruinoError, unhandled), writable: true, configurable: true });
}

// The simulated Espruino: what the interpreter lacks is missing, timers run on virtual time, each reset kind keeps
// and runs what the chip does, the console can be captured through LoopbackA, modules come from Storage, and the
// built-ins sit on the simulated media with the chips' rules.

import test, { type ExecutionContext } from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBoard } from "../boards/index";
import net from "node:net";
import { SimDevice, type SimDeviceOptions } from "../tools/sim/espruino/device";
import { serveConsole } from "../tools/sim/espruino/telnet";

function makeDevice(boardName: string, options: Partial<SimDeviceOptions> = {}) {
  const device = new SimDevice({ board: getBoard(boardName), ...options });
  let out = "";
  device.on("output", (bytes) => {
    out += Buffer.from(bytes).toString("latin1");
  });
  return {
    device,
    output(): string {
      const text = out;
      out = "";
      return text;
    },
  };
}

/** Runs code in the device and returns its value; fails the test when it throws. */
function run(t: ExecutionContext, device: SimDevice, code: string): unknown {
  const outcome = device.evaluate(code);
  if (outcome.error) t.fail(`${code} threw ${String(outcome.error.thrown)}`);
  return outcome.value;
}

test("what Espruino lacks is missing inside the device, and only there", (t) => {
  const { device } = makeDevice("PUCKJS");
  const missing = [
    "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "TextEncoder", "TextDecoder",
    "queueMicrotask", "setImmediate", "structuredClone", "RangeError", "EvalError", "URIError", "WeakRef",
    "Math.imul", "Math.clz32", "Math.trunc", "Math.sign", "Math.log2", "Number.isInteger", "Number.isFinite",
    "Number.isNaN", "Number.EPSILON", "Number.MAX_SAFE_INTEGER", "Number.parseInt", "Array.from", "Array.of",
    "Uint8Array.from", "Float32Array.of", "Object.freeze", "Object.isFrozen", "Object.seal",
    "Object.getOwnPropertySymbols", "Promise.race", "Promise.allSettled", "Promise.any", "Promise.prototype.finally",
    "ArrayBuffer.prototype.slice", "[].reduceRight", "[].lastIndexOf", "[].flat", "[].flatMap", "[].at",
  ];
  for (const name of missing) t.is(run(t, device, `typeof ${name}`), "undefined", `${name} must be missing`);
  const present = [
    "Promise", "Promise.all", "Promise.resolve", "Promise.prototype.then", "Object.assign", "Object.keys", "[].includes",
    "Uint8Array", "DataView", "JSON.stringify", "Math.pow", "Number", "E.CRC32", "setTimeout", "require", "peek32",
  ];
  for (const name of present) t.is(run(t, device, `typeof ${name}`), "function", `${name} must exist`);
  t.is(run(t, device, "Number('12') + new Number(3)"), 15);
  t.is(run(t, device, "Number.MAX_VALUE > 1e300"), true);
  // The host keeps its own intrinsics.
  t.is(typeof Map, "function");
  t.is(typeof Math.imul, "function");
  t.is(typeof Array.from, "function");
});

test("Espruino's JSON: stringify(undefined) is null, typed arrays become arrays", (t) => {
  const { device } = makeDevice("LINUX");
  t.is(run(t, device, "JSON.stringify(undefined)"), "null");
  t.is(run(t, device, "JSON.stringify({a:new Uint8Array([1,2])})"), '{"a":[1,2]}');
});

test("timers run only when virtual time moves, in due order", (t) => {
  const { device, output } = makeDevice("LINUX");
  run(t, device, 'setTimeout(function(){print("B")},100); setTimeout(function(){print("A")},50); var n=0; var iv=setInterval(function(){n++},30);');
  output();
  t.is(run(t, device, "n"), 0);
  device.advance(49);
  t.is(output(), "", "nothing is due before 50 ms");
  t.is(run(t, device, "n"), 1);
  device.advance(1);
  t.is(output(), "\r\x1b[JA\r\n>");
  device.advance(50);
  t.is(output(), "\r\x1b[JB\r\n>");
  t.is(run(t, device, "n"), 3);
  run(t, device, "clearInterval(iv)");
  device.advance(1000);
  t.is(run(t, device, "n"), 3);
  t.is(device.now(), 1100);
  t.is(run(t, device, "Math.round(getTime() * 1000)"), 1100, "getTime() is virtual");
  t.is(run(t, device, "new Date().getTime() === Date.now() && Date.now()"), 1100, "so is Date");
  run(t, device, "setTime(1000000)");
  device.advance(500);
  t.is(run(t, device, "Date.now()"), 1000000500);
  t.is(run(t, device, "new Date(2020, 0, 2).getDate()"), 2);
});

test("promises settle from the event queue and unhandled rejections reach uncaughtException", (t) => {
  const { device, output } = makeDevice("PUCKJS");
  run(t, device, 'var seen=[]; process.on("uncaughtException", function(e){ seen.push(String(e)); });' +
    'Promise.resolve(1).then(function(v){ seen.push("then " + v); });' +
    'Promise.reject(new Error("caught")).catch(function(e){ seen.push("catch " + e.message); });' +
    'Promise.reject("loose"); setTimeout(function(){ null.x; }, 10); seen.push("sync");');
  t.deepEqual(JSON.parse(run(t, device, "JSON.stringify(seen)") as string), ["sync"], "nothing settles before idle");
  device.advance(20);
  // jswrap_promise.c order: each settlement is a queued event, and the reactions it queues run after the
  // settlements already queued, so the unhandled rejection is raised before the first reaction runs.
  t.deepEqual(JSON.parse(run(t, device, "JSON.stringify(seen)") as string), [
    "sync",
    "Error: Unhandled promise rejection: loose",
    "then 1",
    "catch caught",
    "Error: Can't read property 'x' of null",
  ]);
  t.false(output().includes("Uncaught"), "a handler takes the errors");
});

function bootScripts(device: SimDevice): void {
  device.writeFile(".boot0", 'print("boot0"); E.on("kill", function(){ print("kill"); }); E.on("init", function(){ print("init"); });');
  device.writeFile(".bootcde", 'print("bootcde"); function onInit(){ print("onInit"); }');
}

test("boot order: .boot0-3, .bootcde, E.on('init'), onInit", (t) => {
  const { device, output } = makeDevice("PUCKJS");
  bootScripts(device);
  device.writeFile(".boot1", 'print("boot1");');
  output();
  device.reboot();
  const text = output();
  const order = ["boot0", "boot1", "bootcde", "init", "Running onInit()...", "onInit"].map((w) => text.indexOf(w));
  t.true(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])), `boot output in order: ${JSON.stringify(text)}`);
});

const RESETS: Array<{ kind: string; apply: (d: SimDevice) => void; kill: boolean; retained: boolean; nrf52: number; stm32f4: number }> = [
  { kind: "reset()", apply: (d) => d.softReset(), kill: true, retained: true, nrf52: -1, stm32f4: -1 },
  { kind: "E.reboot()", apply: (d) => d.reboot(), kill: true, retained: true, nrf52: 0x4, stm32f4: 1 << 28 },
  { kind: "watchdog", apply: (d) => d.watchdogReset(), kill: false, retained: true, nrf52: 0x2, stm32f4: 1 << 29 },
  { kind: "hard fault", apply: (d) => d.hardFault(), kill: false, retained: true, nrf52: 0x8, stm32f4: 1 << 29 },
  { kind: "power loss", apply: (d) => d.powerLoss(), kill: false, retained: false, nrf52: 0, stm32f4: 1 << 27 },
];

for (const reset of RESETS) {
  test(`${reset.kind}: flash survives, JS variables do not, retained ${reset.retained ? "survives" : "is garbage"}, kill ${reset.kill ? "runs" : "does not run"}`, (t) => {
    for (const boardName of ["PUCKJS", "PICO"]) {
      const { device, output } = makeDevice(boardName);
      bootScripts(device);
      device.reboot();
      const retainedAddr = boardName === "PUCKJS" ? "process.memory().stackEndAddress" : "0x40002854";
      const register = getBoard(boardName).resetReason.register;
      run(t, device, `var jsVar = 42; require("Storage").write("kept", "flash data"); poke32(${retainedAddr}, 0x12345678); poke32(${register}, 0xffffffff);`);
      if (boardName === "PICO") run(t, device, `E.enableWatchdog(2, true)`);
      output();
      reset.apply(device);
      if (boardName === "PICO" && reset.kind === "hard fault") {
        t.is(output(), "", "a hard fault on STM32 hangs: nothing runs");
        device.advance(2000);
      }
      const text = output();
      t.is(text.includes("kill"), reset.kill, `${boardName}: kill handler ran: ${JSON.stringify(text)}`);
      t.true(text.includes("bootcde") || reset.kind === "reset()", `${boardName}: boot code runs again`);
      t.true(text.includes("boot0"), `${boardName}: .boot0 runs on every boot`);
      t.is(run(t, device, "typeof jsVar"), "undefined", `${boardName}: JS variables are cleared`);
      t.is(run(t, device, 'require("Storage").read("kept")'), "flash data", `${boardName}: Storage survives`);
      t.is(run(t, device, `peek32(${retainedAddr}) === 0x12345678`), reset.retained, `${boardName}: retained RAM`);
      const expected = boardName === "PUCKJS" ? reset.nrf52 : reset.stm32f4;
      const value = run(t, device, `peek32(${register})`) as number;
      if (expected === -1) t.is(value, 0, `${boardName}: reset() does not touch the reset register (cleared before)`);
      else if (boardName === "PUCKJS") t.is(value, expected, `${boardName}: RESETREAS`);
      else t.is(value & 0xfe000000 & expected, expected, `${boardName}: RCC_CSR has the ${reset.kind} flag`);
    }
  });
}

test("peek/poke crash the Linux build; unknown addresses read 0 elsewhere", (t) => {
  const linux = makeDevice("LINUX").device;
  t.truthy(linux.evaluate("peek32(0x40000400)").error);
  const puck = makeDevice("PUCKJS").device;
  t.is(run(t, puck, "poke32(0x20000010, 5); peek32(0x20000010)"), 0);
  t.is(run(t, puck, "peek32(0x40000400)"), 0, "a power-on reset reads 0 on nRF52");
});

test("a watchdog that is not kicked resets the chip in virtual time; auto mode only fires when the loop hangs", (t) => {
  const { device } = makeDevice("PUCKJS");
  run(t, device, "E.enableWatchdog(1, false); var iv = setInterval(function(){ E.kickWatchdog(); }, 500);");
  device.advance(3000);
  t.is(device.lastReset, "power-on", "kicked in time");
  run(t, device, "clearInterval(iv)");
  device.advance(999);
  t.is(device.lastReset, "power-on");
  device.advance(2);
  t.is(device.lastReset, "watchdog");
  t.is(run(t, device, "peek32(0x40000400) & 2"), 2);
  run(t, device, "E.enableWatchdog(1)");
  device.advance(5000);
  t.is(device.lastReset, "watchdog", "auto mode: idle loop kicks");
  t.is(device.boots, 2);
  device.hang();
  device.advance(1001);
  t.is(device.boots, 3, "a hang (while(1)) lets the watchdog fire");
});

test("Ctrl-C interrupts a hang", (t) => {
  const { device, output } = makeDevice("LINUX");
  device.connect();
  output();
  device.hang();
  device.write("1+1\n");
  t.is(output(), "", "a busy interpreter does not read input");
  device.write("\x03");
  t.true(output().includes("Execution Interrupted"));
});

test("console capture through LoopbackA: the host's input runs only when the program forwards it", (t) => {
  const { device, output } = makeDevice("LINUX");
  device.connect();
  output();
  device.write('\x10var log="";LoopbackB.on("data",function(d){log+=d;});E.setConsole(LoopbackA,{force:true});\n');
  t.is(output(), "", "a forced capture leaves the telnet console silent");
  device.write("x=5\n");
  device.runUntilIdle();
  t.is(output(), "");
  t.is(run(t, device, "typeof x"), "undefined", "input on Telnet is not the console's while captured");
  device.connect();
  t.is(output(), "", "a forced capture survives a reconnect");
  // The firmware's way to keep a usable REPL: forward both directions.
  run(t, device, 'Telnet.on("data",function(d){LoopbackB.write(d);}); LoopbackB.on("data",function(d){Telnet.write(d);});');
  device.write("1+2\n");
  t.is(output(), "1+2\r\n=3\r\n>");
  t.true((run(t, device, "log") as string).includes("1+2\r\n=3\r\n>"), "the capture saw the console output");
  device.write('E.setConsole("Telnet")\n');
  t.true(output().includes("<- LoopbackA\r\n"));
});

test("require: Modules cache, native modules, then a Storage file of that name", (t) => {
  const { device } = makeDevice("PUCKJS");
  device.writeFile("twice", "exports.twice = function (a) { return a * 2; };");
  t.is(run(t, device, 'require("twice").twice(21)'), 42);
  device.writeFile("whole", "module.exports = function () { return 'whole'; };");
  t.is(run(t, device, 'require("whole")()'), "whole");
  run(t, device, 'Modules.addCached("cached", "exports.v = 7;")');
  t.is(run(t, device, 'require("cached").v'), 7);
  t.is(String(device.evaluate('require("nothing")').error?.thrown), 'Error: Module "nothing" not found');
  const bytes = run(t, device, 'var hs = require("heatshrink"); var c = hs.compress(E.toUint8Array("aaaaaaaaaaaaaaaaaaaaaaaa")); E.toString(hs.decompress(c))');
  t.is(bytes, "aaaaaaaaaaaaaaaaaaaaaaaa");
  const linux = makeDevice("LINUX").device;
  t.is(linux.evaluate('typeof require("heatshrink").compress').value, "function", "the Linux build has heatshrink too, whatever codec pstore uses there");
});

test("Storage: pre-allocated files filled at increasing offsets; written bytes cannot be rewritten", (t) => {
  const { device } = makeDevice("PUCKJS");
  run(t, device, 'var S = require("Storage"); S.write("log", "Hello", 0, 14); S.write("log", " ", 5); S.write("log", "World!!!", 6);');
  t.is(run(t, device, 'S.read("log")'), "Hello World!!!");
  t.regex(String(device.evaluate('S.write("log", "x", 2)').error?.thrown), /File already written/);
  t.regex(String(device.evaluate('S.write("log", "xxxxxxxxxxxxxxxxxxxxx", 3)').error?.thrown), /Too much data/);
  run(t, device, 'S.write("pre", "ab", 0, 6)');
  t.is(run(t, device, 'S.read("pre")'), "ab\xff\xff\xff\xff");
  t.deepEqual(JSON.parse(run(t, device, "JSON.stringify(S.list())") as string), ["log", "pre"]);
  run(t, device, 'S.erase("log")');
  t.is(run(t, device, 'S.read("log")'), undefined);
  t.is(run(t, device, 'new Uint8Array(S.readArrayBuffer("pre"))[1]'), 0x62);
});

test("Storage compacts when a new file only fits without the deleted ones", (t) => {
  const { device, output } = makeDevice("LINUX");
  const big = 100 * 1024;
  run(t, device, `var S = require("Storage"); S.write("a", "1", 0, ${big}); S.write("b", "2", 0, ${big}); S.erase("a");`);
  output();
  run(t, device, `S.write("c", "3", 0, ${big})`);
  t.true(output().includes("Compacting..."));
  t.deepEqual(JSON.parse(run(t, device, "JSON.stringify(S.list())") as string), ["b", "c"]);
  t.is((run(t, device, 'S.read("b")') as string)[0], "2");
});

test("Storage on STM32F1: erasing and replacing files zero the name word by ordinary programming", (t) => {
  const { device } = makeDevice("ORIGINAL");
  run(t, device, 'var S = require("Storage"); S.write("a", "first"); S.write("a", "second"); S.write("b", "x"); S.erase("b");');
  t.is(run(t, device, 'S.read("a")'), "second");
  t.deepEqual(JSON.parse(run(t, device, "JSON.stringify(S.list())") as string), ["a"]);
  t.is(run(t, device, "S.getStats().trashCount"), 2);
  t.deepEqual(device.flash.violations, [], "the chip takes 0x0000 over a programmed half-word");
});

test("a corrupt Storage area is erased at a power-on boot with the firmware's messages, except on Bangle.js", (t) => {
  for (const [boardName, wiped] of [["PUCKJS", true], ["BANGLEJS2", false]] as const) {
    const { device, output } = makeDevice(boardName);
    run(t, device, 'require("Storage").write("kept", "data")');
    const board = getBoard(boardName);
    // A header where free space should start that the firmware's walk cannot follow.
    device.flash.poke(board.storage.addr + 32 + 4, new Uint8Array(4));
    device.softReset();
    t.false(output().includes("Storage is corrupt."), `${boardName}: only a hardware boot checks Storage`);
    device.powerLoss();
    t.is(output().includes("Storage is corrupt.\r\nErasing Storage Area...\r\nErase complete.\r\n"), wiped, boardName);
    t.is(run(t, device, 'require("Storage").read("kept")'), wiped ? undefined : "data", boardName);
  }
});

test("Flash.write accepts any alignment by re-programming whole words, which the chip rules flag", (t) => {
  const pico = makeDevice("PICO").device;
  run(t, pico, 'var F = require("Flash"); F.erasePage(0x08060000); F.write("ab", 0x08060001); F.write("c", 0x08060003);');
  t.is(run(t, pico, 'E.toString(F.read(5, 0x08060000))'), "\xffabc\xff");
  t.deepEqual(JSON.parse(run(t, pico, "JSON.stringify(F.getFree())") as string), [{ addr: 0x08060000, length: 0x20000 }]);
  t.is(pico.flash.violations.length, 0, "clear-only flash takes it");
  const original = makeDevice("ORIGINAL").device;
  t.truthy(original.evaluate('var F = require("Flash"); F.write("ab", 0x08037001); F.write("c", 0x08037003);').error);
  t.is(original.flash.violations.length, 1, "STM32F1 cannot program the half-word again");
});

test("out of memory: printed, execution interrupted, MEMORY flag reported from idle and cleared by getErrorFlags", (t) => {
  const { device, output } = makeDevice("LINUX");
  run(t, device, 'var flags; E.on("errorFlag", function(f){ flags = JSON.stringify(f); });');
  output();
  device.simulateOutOfMemory();
  const text = output();
  t.true(text.startsWith("OUT OF MEMORY"));
  t.true(text.includes("Execution Interrupted"));
  t.is(run(t, device, "flags"), '["MEMORY"]');
  t.is(run(t, device, "JSON.stringify(E.getErrorFlags())"), '["MEMORY"]');
  t.is(run(t, device, "JSON.stringify(E.getErrorFlags())"), "[]");
});

test("E.reboot() from code: kill runs, nothing after it runs, reset register says software reset", (t) => {
  const { device, output } = makeDevice("PUCKJS");
  run(t, device, 'E.on("kill", function(){ print("kill"); }); setTimeout(function(){ E.reboot(); print("after"); }, 10);');
  output();
  device.advance(20);
  const text = output();
  t.true(text.includes("kill"));
  t.false(text.includes("after"));
  t.is(device.lastReset, "reboot");
  t.is(run(t, device, "peek32(0x40000400)"), 4);
});

test("a power cut in the middle of a flash operation stops the device; flash persists through an image file", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sim-espruino-"));
  const imageFile = join(dir, "puck.img");
  const first = makeDevice("PUCKJS", { imageFile }).device;
  run(t, first, 'require("Storage").write("keep", "me")');
  let after = "";
  first.on("output", (bytes) => {
    after += Buffer.from(bytes).toString("latin1");
  });
  first.flash.cutPowerAfter(1);
  first.evaluate('require("Storage").write("lost", "data"); print("still running"); require("Storage").write("never", "x")');
  t.false(first.powered);
  t.false(after.includes("still running"), "nothing runs after the cut");
  first.powerOn();
  t.is(run(t, first, 'require("Storage").read("keep")'), "me");
  t.is(run(t, first, 'require("Storage").read("never")'), undefined);
  first.saveImage();
  const second = makeDevice("PUCKJS", { imageFile }).device;
  t.is(run(t, second, 'require("Storage").read("keep")'), "me");
});

test("process.env and process.memory describe the board", (t) => {
  const { device } = makeDevice("PUCKJS", { seed: 7 });
  t.is(run(t, device, "process.env.BOARD"), "PUCKJS");
  t.is(run(t, device, "process.env.VERSION"), "2v29.277");
  const serial = run(t, device, "process.env.SERIAL");
  t.is(run(t, makeDevice("PUCKJS", { seed: 7 }).device, "process.env.SERIAL"), serial, "stable per device");
  t.is(run(t, device, "process.memory().total"), getBoard("PUCKJS").jsVars);
  t.is(typeof run(t, device, "process.memory().stackEndAddress"), "number");
});

test("an esbuild bundle installed as Storage files runs unchanged at boot", async (t) => {
  const { transform } = await import("esbuild");
  const source = `
    const enum Kind { A = 1, B = 2 }
    class Counter { count = 0; constructor(readonly step: number) {} bump() { this.count += this.step; return this.count; } }
    class Twice extends Counter { constructor() { super(Kind.B); } }
    const c = new Twice();
    for (const x of [1, 2, 3]) c.bump();
    const view = new DataView(new Uint8Array(4).buffer);
    view.setUint32(0, E.CRC32("abc"), true);
    exports.result = \`\${c.count}:\${view.getUint8(0)}\`;
  `;
  const bundle = await transform(source, { loader: "ts", format: "cjs", target: "es2015", minify: true });
  const { device, output } = makeDevice("PUCKJS");
  device.writeFile("app", bundle.code);
  device.writeFile(".boot0", 'print("result=" + require("app").result);');
  output();
  device.reboot();
  t.true(output().includes(`result=6:${0x352441c2 & 0xff}`));
});

test("the console is served over TCP like the Linux build's --telnet", async (t) => {
  const { device } = makeDevice("LINUX");
  const server = await serveConsole(device, 0);
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, "127.0.0.1");
      let got = "";
      socket.on("data", (data) => {
        got += data.toString("latin1");
        if (got === ">") socket.write("\x10print(6*7)\n");
        if (got.endsWith("42\r\n>")) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on("error", reject);
    });
    t.is(reply, ">42\r\n>");
  } finally {
    await server.close();
  }
});

test("E.getConsole names the console device, LoopbackA while captured", (t) => {
  for (const [board, console] of [["PICO", "USB"], ["PUCKJS", "Bluetooth"], ["ESP32", "Serial1"], ["LINUX", "Telnet"]]) {
    const { device } = makeDevice(board);
    t.is(run(t, device, "E.getConsole()"), console, board);
    t.is(run(t, device, "E.getConsole() === process.env.CONSOLE"), true, board);
    run(t, device, "E.setConsole(LoopbackA, { force: true })");
    t.is(run(t, device, "E.getConsole()"), "LoopbackA", board);
    run(t, device, `E.setConsole(${console})`);
    t.is(run(t, device, "E.getConsole()"), console, board);
  }
});

test("global is the root scope: the console devices are its properties, and so is every global variable", (t) => {
  const { device } = makeDevice("PICO");
  t.is(run(t, device, "global === this"), true);
  t.is(run(t, device, "global.USB === USB && global['Serial1'] === Serial1 && global.LoopbackA === LoopbackA && global.LoopbackB === LoopbackB"), true);
  t.is(run(t, device, "typeof global.Bluetooth"), "undefined", "a Pico has no Bluetooth");
  run(t, device, "var counter = 41; global.fromGlobal = 1");
  t.is(run(t, device, "global.counter + fromGlobal"), 42);
  t.false((run(t, device, "Object.keys(global)") as string[]).includes("global"), "not an enumerable variable");
  t.is(run(t, device, "typeof makeDevice"), "undefined", "the host's scope stays out");
});

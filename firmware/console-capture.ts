// Console capture that keeps the REPL: the console is LoopbackA, everything printed reaches LoopbackB, goes into
// the ring and on to the device a host last typed on (at first the console device at start); what a host types on
// that device, USB, Bluetooth or Telnet goes into LoopbackA's REPL through LoopbackB. `force` keeps a new connection
// from taking the console back. The `consoleDevice` option pins one device instead (e.g. when the application uses
// Bluetooth UART for its own protocol). A Loopback device is never forwarded to: it would feed LoopbackB.
//
// What the real interpreter imposes:
// - Loopback output travels through the interpreter's input queue (process.memory().rx.total: 1 KB on the Linux
//   build and on Bangle.js 2), drained only between two runs of JavaScript: one print past ~1 KB lost the rest and
//   set FIFO_FULL. So print() and console.log() of strings put only HELD on the Loopback and keep their text; the
//   LoopbackB listener puts each text back in place of its marker, in order with whatever else was printed.
// - The listeners and wrappers outlive the module's Storage file (an upload over a running pstore, as the App
//   Loader does after its reset()), and functions loaded from Storage point into their file: they are compiled from
//   a string (firmware/ram-code.ts), and when the ring's code is gone the capture ends and gives the console back.
// - On Bangle.js the watch's settings decide where the REPL is (apps/boot/bootupdate.js, run before every boot
//   file): with "Programmable" off (blerepl false) Bluetooth is no REPL, and with the Debug "Log" setting (log 2 or
//   3) LoopbackA is already the console and LoopbackB feeds log.txt: pstore then only listens beside it.

import { ramCode } from "./ram-code";

declare var global: any;
declare var globalThis: any;

/** A running capture; `t` and `e` are what the resident module uses. */
export interface ConsoleCapture {
  /** Where console output goes: the device a host last typed on, undefined for none. */
  t: any;
  /** Whether pstore made LoopbackA the console (false: it listens beside another capture). */
  f: boolean;
  /** The ring's input. */
  s: (text: string) => void;
  /** Texts held back by the print wrappers, in order. */
  h: string[];
  /** The wrapped print and console.log. */
  p: any;
  l: any;
  /** The LoopbackB listener; the devices listened to, with their listeners. */
  o: (d: string) => void;
  d: any[];
  /** A listener for `device` that hands typed input to LoopbackA's REPL. */
  i: (device: any) => (d: string) => void;
  /** A print that holds strings back (see above) and passes anything else to `native`. */
  w: (native: any) => any;
  /** Ends the capture: listeners off, print and console.log back, the console back to the target. */
  e: () => void;
}

/** Compiled into RAM at start; `c` is the Capture. HELD is \x1a, a byte consoles do not print. */
const CAPTURE_CODE =
  '(function(c){var M="\\x1a";' +
  "c.o=function(d){if(c.h.length&&d.indexOf(M)>=0){var p=d.split(M),i;d=p[0];" +
  "for(i=1;i<p.length;i++)d+=(c.h.length?c.h.shift():M)+p[i];}" +
  "if(c.t)c.t.write(d);try{c.s(d)}catch(e){c.e()}};" +
  "c.i=function(v){return function(d){c.t=v;LoopbackB.write(d)}};" +
  'c.w=function(n){return function(){var a=arguments,s="",i;' +
  'for(i=0;i<a.length;i++){if(typeof a[i]!="string")return n.apply(this,a);s+=(i?" ":"")+a[i]}' +
  'c.h.push(s.split("\\n").join("\\r\\n"));n(M)}};' +
  'c.e=function(){var i;LoopbackB.removeListener("data",c.o);' +
  'for(i=0;i<c.d.length;i+=2)c.d[i].removeListener("data",c.d[i+1]);' +
  "if(c.f){print=c.p;console.log=c.l;c.f=false;" +
  'for(i=0;i<c.h.length;i++)if(c.t)c.t.write(c.h[i]+"\\r\\n");c.h=[];E.setConsole(c.t,{force:false})}}' +
  "})";

/** The console device now: E.getConsole() where the firmware has it, else process.env.CONSOLE. */
function consoleName(): string | undefined {
  const e: any = E;
  return (e.getConsole ? e.getConsole() : (process.env as any).CONSOLE) || undefined;
}

/**
 * Starts the capture into `sink`; `pinned` (the consoleDevice option) names the one REPL device, if any. Boot-only
 * code (in the service module): what it starts lives in RAM.
 */
export function captureConsole(sink: (text: string) => void, pinned: string): ConsoleCapture {
  const root = typeof global !== "undefined" ? global : globalThis;
  const start = consoleName();
  let bluetooth = true;
  let joined = false;
  if (PSTORE_BOARD === "BANGLEJS2" || PSTORE_BOARD === "BANGLEJS") {
    const watch = require("Storage").readJSON("setting.json", true) || {};
    bluetooth = watch.blerepl !== false;
    joined = watch.log >= 2;
  }
  const c = { t: undefined, f: !joined, s: sink, h: [], p: root.print, l: console.log, d: [] } as any as ConsoleCapture;
  ramCode(CAPTURE_CODE)(c);
  LoopbackB.on("data", c.o);
  if (joined) return c;
  const names = pinned ? [pinned] : [start, "USB", bluetooth ? "Bluetooth" : "", "Telnet"];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const device = name && name.indexOf("Loopback") && names.indexOf(name) === i ? root[name] : undefined;
    if (device && device.on) {
      if (!c.t) c.t = device;
      const listener = c.i(device);
      device.on("data", listener);
      c.d.push(device, listener);
    }
  }
  root.print = c.w(c.p);
  console.log = c.w(c.l);
  E.setConsole(LoopbackA, { force: true });
  return c;
}

// Boot-only code of the device: checks start()'s options, gives the backends their boot scan and runs it, with the
// reset reason and the boot event. It runs once per boot, so it is part of the service module (firmware/svc.ts),
// which start() loads for it and then drops from the module cache: none of it weighs on the resident module.

import { board } from "pstore-board";
import type { ZonedBackend } from "../pstore/zone";
import { addZoneOpen } from "../pstore/zone-open";
import { createDeviceReset } from "../hal/device/reset";
import { PstoreOptions, Settings, resolveSettings } from "./config";
import type { Runtime } from "./runtime";
import { startRuntime } from "./runtime-start";
import { ramCode } from "./ram-code";

/** Espruino's root scope, where the console devices (USB, Bluetooth, Serial1, Telnet) live. */
declare var global: any;
declare var globalThis: any;

const CONSOLE_DEVICES = ["USB", "Bluetooth", "Serial1", "Serial2", "Serial3", "Telnet"];

function refuseOptions(options: PstoreOptions | undefined): Settings {
  const s = resolveSettings(board, options);
  const d = s.consoleDevice;
  const root = typeof global !== "undefined" ? global : globalThis;
  const isDevice = function (name: string) {
    return name.indexOf("Loopback") < 0 && root[name] && root[name].on;
  };
  // A console pinned to no device leaves the REPL nowhere until a power cycle with a fixed pstore.json.
  if (d && !isDevice(d)) {
    throw new Error("pstore option consoleDevice: " + JSON.stringify(d) + " will not do: the devices here are " + CONSOLE_DEVICES.filter(isDevice).join(", "));
  }
  return s;
}

/** start()'s settings; throws naming the option that is wrong, adding that pstore runs already when it does. */
export function settings(options: PstoreOptions | undefined, running: boolean): Settings {
  try {
    return refuseOptions(options);
  } catch (e: any) {
    throw running ? new Error(e.message + " (pstore is already running: options are checked, not applied)") : e;
  }
}

/** Boot scan, retained-RAM commit, reset reason and boot event of a new Runtime (runtime-start.ts). */
export function boot(r: Runtime): void {
  const pending = r.core.pending_;
  const opened: any[] = [];
  for (let i = 0; i < pending.length; i++) {
    if (!pending[i].open) {
      addZoneOpen(pending[i] as ZonedBackend);
      opened.push(pending[i]);
    }
  }
  startRuntime(r, createDeviceReset(board.resetReason.kind, board.resetReason.register), board.resetReason.kind);
  // The scan's code is this module's: the running backends keep none of it.
  for (let i = 0; i < opened.length; i++) {
    delete opened[i].open;
    delete opened[i].lastBoot;
  }
}

/**
 * Puts a load() in place that sets `ending.switching` first: a load() is an app switch (on Bangle.js every one), which
 * the `kill` hook then tells from a shutdown. Compiled into RAM, so a load() still works once an upload has replaced
 * the module's file (the App Loader's last step).
 */
export function watchAppSwitches(ending: { switching: boolean }): void {
  const root = typeof global !== "undefined" ? global : globalThis;
  root.load = ramCode("(function(n,s){return function(f){s.switching=true;n(f)}})")(root.load, ending);
}

// Bluetooth LE: the Nordic UART service that Puck.js, Pixl.js, MDBT42Q, Jolt.js and Bangle.js give their console
// on, through @abandonware/noble (the library the Espruino tools use for BLE from Node). noble is loaded only when a
// BLE port is asked for; `$PSTORE_NOBLE_MODULE` names a module to load in its place (the tests' fake of its API).
// Writes go one at a time, each no longer than the link's MTU allows, the next only after the last one's callback;
// XOFF from the device holds them until XON. A link that drops is connected again and the line carries on: what was
// lost in the gap, the protocol client asks for again from its last good offset.

import { BasePort } from "./types";

/** noble writes UUIDs lowercase without dashes. */
export const NORDIC_UART = {
  service: "6e400001b5a3f393e0a9e50e24dcca9e",
  /** The device's RX: the host writes here. */
  rx: "6e400002b5a3f393e0a9e50e24dcca9e",
  /** The device's TX: it notifies here. */
  tx: "6e400003b5a3f393e0a9e50e24dcca9e",
};
export const NOBLE_MODULE_ENV = "PSTORE_NOBLE_MODULE";
const NOBLE_PACKAGE = "@abandonware/noble";

/** ATT header bytes in each write: a write carries MTU - 3 bytes, 20 on a link that never raised the default 23. */
const ATT_HEADER = 3;
const DEFAULT_MTU = 23;
const XON = 0x11;
const XOFF = 0x13;
/** As the Espruino tools: a device that sent XOFF and never XON is written to again after this long. */
const XOFF_LIMIT_MS = 10000;
/** A found device is connected within this long, or the attempt fails. */
const CONNECT_MS = 10000;
const RECONNECT_ATTEMPTS = 3;
const ADAPTER_MS = 5000;

/** The part of noble's API this port uses (see noble's index.d.ts); the tests' fake provides the same. */
export interface NobleApi {
  readonly state: string;
  on(event: "stateChange", listener: (state: string) => void): unknown;
  on(event: "discover", listener: (peripheral: BlePeripheral) => void): unknown;
  removeListener(event: "stateChange" | "discover", listener: (...args: never[]) => void): unknown;
  startScanningAsync(serviceUuids: string[], allowDuplicates: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
}

export interface BlePeripheral {
  id: string;
  address: string;
  advertisement: { localName?: string; serviceUuids?: string[] };
  rssi: number;
  mtu: number | null;
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  cancelConnect?(): void;
  discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]): Promise<{ characteristics: BleCharacteristic[] }>;
  once(event: "disconnect", listener: () => void): unknown;
  removeListener(event: "disconnect", listener: () => void): unknown;
}

export interface BleCharacteristic {
  uuid: string;
  write(data: Buffer, withoutResponse: boolean, callback: (error?: unknown) => void): void;
  subscribeAsync(): Promise<void>;
  on(event: "data", listener: (data: Buffer) => void): unknown;
  removeListener(event: "data", listener: (data: Buffer) => void): unknown;
}

/** Which device a BLE port spec names: its address, or the name it advertises. */
export type BleTarget = { address: string } | { name: string };

/** A device seen advertising the Nordic UART service. */
export interface BleDevice {
  address: string;
  name: string;
  rssi: number;
}

/** `ble://AA:BB:CC:DD:EE:FF`, `ble:AA:BB:…` or `ble:Puck.js 1a2b`; undefined when the spec is not a BLE one. */
export function parseBleSpec(spec: string): BleTarget | undefined {
  const match = /^ble:(?:\/\/)?(.*)$/i.exec(spec);
  if (!match) return undefined;
  const rest = match[1].trim();
  if (rest === "") throw new Error(`port spec ${JSON.stringify(spec)} names no device: give ble://AA:BB:CC:DD:EE:FF or ble:NAME (pstore ports lists them)`);
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(rest) ? { address: rest.toLowerCase() } : { name: rest };
}

function describeTarget(target: BleTarget): string {
  return "address" in target ? `ble://${target.address.toUpperCase()}` : `ble:${target.name}`;
}

/** Loads noble (or `$PSTORE_NOBLE_MODULE`) and waits for its adapter; throws one line saying why BLE cannot be used. */
export async function loadNoble(): Promise<NobleApi> {
  const replacement = process.env[NOBLE_MODULE_ENV];
  let module: { default?: NobleApi } & Partial<NobleApi>;
  try {
    module = await import(replacement ? new URL(replacement, `file://${process.cwd()}/`).href : NOBLE_PACKAGE);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!replacement && code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes(NOBLE_PACKAGE)) {
      throw new Error(`Bluetooth LE needs the ${NOBLE_PACKAGE} package, which is not installed (npm install -g ${NOBLE_PACKAGE})`);
    }
    throw new Error(noBluetooth(error as Error));
  }
  const noble = (module.default ?? module) as NobleApi;
  let state: string;
  try {
    state = noble.state;
  } catch (error) {
    throw new Error(noBluetooth(error as Error));
  }
  if (state === "unknown" || state === "resetting") {
    state = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => finish(noble.state), ADAPTER_MS);
      const onState = (next: string) => {
        if (next !== "unknown" && next !== "resetting") finish(next);
      };
      const finish = (final: string) => {
        clearTimeout(timer);
        noble.removeListener("stateChange", onState);
        resolve(final);
      };
      noble.on("stateChange", onState);
    });
  }
  if (state !== "poweredOn") throw new Error(ADAPTER_STATES[state] ?? `the Bluetooth adapter is ${state}, not powered on`);
  return noble;
}

const ADAPTER_STATES: Record<string, string> = {
  unknown: `no Bluetooth adapter answered within ${ADAPTER_MS / 1000} s`,
  poweredOff: "Bluetooth is switched off (bluetoothctl power on)",
  unauthorized: "this user may not use Bluetooth: run as root, or give node the capability (sudo setcap cap_net_raw+eip $(readlink -f $(which node)))",
  unsupported: "the Bluetooth adapter does not do Bluetooth LE",
};

function noBluetooth(error: Error): string {
  const code = (error as { code?: string }).code;
  if (code === "EAFNOSUPPORT" || code === "ENODEV") return `this machine has no Bluetooth adapter (${code})`;
  return `the ${NOBLE_PACKAGE} package does not load: ${String(error.message).split("\n")[0]}`;
}

function advertisesUart(peripheral: BlePeripheral): boolean {
  return (peripheral.advertisement.serviceUuids ?? []).some((uuid) => uuid.replace(/-/g, "").toLowerCase() === NORDIC_UART.service);
}

function matches(peripheral: BlePeripheral, target: BleTarget): boolean {
  if ("name" in target) return peripheral.advertisement.localName === target.name;
  return peripheral.address?.toLowerCase() === target.address || peripheral.id?.toLowerCase() === target.address.replace(/:/g, "");
}

/**
 * Scans for `ms` (or until `stopWhen` says so); every device seen, once. Duplicates are asked for because the
 * UART service's UUID comes in the scan response, after the first advertisement.
 */
async function scan(noble: NobleApi, ms: number, stopWhen: (peripheral: BlePeripheral) => boolean): Promise<BlePeripheral[]> {
  const seen = new Map<string, BlePeripheral>();
  await new Promise<void>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      noble.removeListener("discover", onDiscover);
      noble.stopScanningAsync().then(resolve, reject);
    };
    const onDiscover = (peripheral: BlePeripheral) => {
      seen.set(peripheral.id, peripheral);
      if (stopWhen(peripheral)) finish();
    };
    const timer = setTimeout(finish, ms);
    noble.on("discover", onDiscover);
    noble.startScanningAsync([], true).catch((error: Error) => {
      clearTimeout(timer);
      noble.removeListener("discover", onDiscover);
      reject(new Error(`cannot scan for Bluetooth LE devices: ${error.message}`));
    });
  });
  return [...seen.values()];
}

/** Devices advertising the Nordic UART service within `ms`, sorted by name. */
export async function scanUartDevices(noble: NobleApi, ms: number): Promise<BleDevice[]> {
  const found = await scan(noble, ms, () => false);
  return found
    .filter(advertisesUart)
    .map((p) => ({ address: (p.address || p.id).toUpperCase(), name: p.advertisement.localName ?? "", rssi: p.rssi }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.address.localeCompare(b.address));
}

/** Finds the device `target` names within `scanMs`, connects, and gives its UART as a Port. */
export async function openBlePort(noble: NobleApi, target: BleTarget, options: { scanMs: number }): Promise<BasePort> {
  const what = describeTarget(target);
  const found = (await scan(noble, options.scanMs, (p) => matches(p, target))).find((p) => matches(p, target));
  if (!found) {
    throw new Error(
      `cannot open ${what}: no such device advertised within ${options.scanMs / 1000} s (in range? connected to another host, such as the Web IDE?)`,
    );
  }
  const name = found.advertisement.localName;
  const port = new BlePort(found, `ble://${(found.address || found.id).toUpperCase()}${name ? ` (${name})` : ""}`);
  try {
    await port.link();
  } catch (error) {
    throw new Error(`cannot open ${port.description}: ${(error as Error).message}`);
  }
  return port;
}

class BlePort extends BasePort {
  private rx: BleCharacteristic | undefined;
  private tx: BleCharacteristic | undefined;
  private queue: Uint8Array[] = [];
  /** The write whose callback has not come yet: sent again after a reconnect, so a line is never cut short. */
  private inFlight: Uint8Array | undefined;
  private heldUntil = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly peripheral: BlePeripheral,
    description: string,
  ) {
    super(description);
  }

  /** Connects, finds the UART's characteristics and subscribes to the device's output. */
  async link(): Promise<void> {
    await withTimeout(this.peripheral.connectAsync(), CONNECT_MS, "no connection", () => this.peripheral.cancelConnect?.());
    try {
      const { characteristics } = await this.peripheral.discoverSomeServicesAndCharacteristicsAsync([NORDIC_UART.service], [NORDIC_UART.rx, NORDIC_UART.tx]);
      const find = (uuid: string) => characteristics.find((c) => c.uuid.replace(/-/g, "").toLowerCase() === uuid);
      const rx = find(NORDIC_UART.rx);
      const tx = find(NORDIC_UART.tx);
      if (!rx || !tx) throw new Error("the device has no Nordic UART service (is it an Espruino board?)");
      tx.on("data", this.onNotify);
      await tx.subscribeAsync();
      this.rx = rx;
      this.tx = tx;
    } catch (error) {
      await this.peripheral.disconnectAsync().catch(() => {});
      throw error;
    }
    this.peripheral.once("disconnect", this.onDisconnect);
    this.pump();
  }

  protected send(bytes: Uint8Array): void {
    this.queue.push(Uint8Array.from(bytes));
    this.pump();
  }

  protected async shutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.holdTimer);
    this.peripheral.removeListener("disconnect", this.onDisconnect);
    this.tx?.removeListener("data", this.onNotify);
    await withTimeout(this.peripheral.disconnectAsync(), CONNECT_MS, "no answer to the disconnect").catch(() => {});
  }

  /** Bytes a write may carry on this link now. */
  private get writeSize(): number {
    return (this.peripheral.mtu ?? DEFAULT_MTU) - ATT_HEADER;
  }

  private pump(): void {
    const rx = this.rx;
    if (!rx || this.inFlight || this.closing || this.queue.length === 0) return;
    if (Date.now() < this.heldUntil) return;
    // As much of the queue as one write carries.
    const chunk = new Uint8Array(Math.min(this.writeSize, this.queue.reduce((n, piece) => n + piece.length, 0)));
    for (let at = 0; at < chunk.length; ) {
      const head = this.queue[0];
      const take = Math.min(head.length, chunk.length - at);
      chunk.set(head.subarray(0, take), at);
      at += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    this.inFlight = chunk;
    rx.write(Buffer.from(chunk), false, (error) => {
      if (this.rx !== rx || this.inFlight !== chunk) return;
      // A failed write leaves the line in doubt: drop the link, and the reconnect sends this chunk again.
      if (error) return void this.peripheral.disconnectAsync().catch(() => {});
      this.inFlight = undefined;
      this.pump();
    });
  }

  private readonly onNotify = (data: Buffer): void => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    // The last flow-control byte in the notification says whether the device can take more; the frame parser
    // drops both bytes from the text.
    for (let i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] === XOFF) {
        this.hold(XOFF_LIMIT_MS);
        break;
      }
      if (bytes[i] === XON) {
        this.hold(0);
        break;
      }
    }
    this.received(bytes);
  };

  private hold(ms: number): void {
    clearTimeout(this.holdTimer);
    this.heldUntil = ms > 0 ? Date.now() + ms : 0;
    if (ms > 0) this.holdTimer = setTimeout(() => this.pump(), ms);
    else this.pump();
  }

  private readonly onDisconnect = (): void => {
    if (this.closing) return;
    this.tx?.removeListener("data", this.onNotify);
    this.rx = undefined;
    this.tx = undefined;
    if (this.inFlight) this.queue.unshift(this.inFlight);
    this.inFlight = undefined;
    this.heldUntil = 0;
    void this.reconnect();
  };

  private async reconnect(): Promise<void> {
    let last: Error | undefined;
    for (let attempt = 1; attempt <= RECONNECT_ATTEMPTS && !this.closing; attempt++) {
      try {
        await this.link();
        return;
      } catch (error) {
        last = error as Error;
      }
    }
    if (!this.closing) {
      this.closed(new Error(`${this.description}: the link dropped and did not come back after ${RECONNECT_ATTEMPTS} attempts (${last?.message})`));
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} within ${ms / 1000} s`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

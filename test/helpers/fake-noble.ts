// A fake of the part of @abandonware/noble's API that tools/ports/ble.ts uses: scanning (an advertisement, then
// the scan response with the service UUIDs), connect, discoverSomeServicesAndCharacteristics, a subscribed
// notify characteristic, the link's MTU, write callbacks, and a link that drops. Behind each fake peripheral's
// UART is a device: an in-memory link in the tests' own process, or a TCP console (a HostileDevice or the
// simulator) when `pstore` runs as a child and loads this module through $PSTORE_NOBLE_MODULE, configured by
// $FAKE_NOBLE (FakeNobleConfig as JSON). The fake checks what a real link would punish and records it as a
// violation: a write longer than MTU - 3, a write before the last one's callback, a write while XOFF holds.

import { EventEmitter } from "node:events";
import { appendFileSync } from "node:fs";
import { Socket } from "node:net";
import { NORDIC_UART } from "../../tools/ports/ble";

export interface FakeDeviceOptions {
  address: string;
  name?: string;
  /** Advertises and has the Nordic UART service (default true). */
  uart?: boolean;
  /** ATT MTU after connecting (default 23: 20-byte writes). */
  mtu?: number;
  /** Drop the link when this many bytes have been notified since the first connect (each once). */
  dropAfterBytes?: number[];
  /** Connect attempts after a drop that fail before one succeeds. */
  failedReconnects?: number;
  /** Send XOFF after the host has written this many bytes, then XON `xoffMs` later. */
  xoffAfterBytes?: number;
  xoffMs?: number;
}

export interface FakeNobleConfig {
  state?: string;
  devices: Array<FakeDeviceOptions & { /** tcp://host:port of the console behind the UART. */ target?: string }>;
  /** File that gets one JSON line per event (connect, drop, write sizes, violations). */
  log?: string;
}

/** The device end of a fake peripheral's UART. */
export interface UartLink {
  /** What the host wrote. */
  toDevice(bytes: Uint8Array): void;
  /** Registers the listener for the device's output. */
  fromDevice(listener: (bytes: Uint8Array) => void): void;
}

export interface FakeEvent {
  event: "connect" | "connect-refused" | "disconnect" | "drop" | "write" | "violation";
  address: string;
  bytes?: number;
  detail?: string;
}

export class FakeNoble extends EventEmitter {
  readonly events: FakeEvent[] = [];
  readonly peripherals: FakePeripheral[];
  private scanning = false;

  constructor(
    devices: Array<{ options: FakeDeviceOptions; link: UartLink }>,
    public state = "poweredOn",
    private readonly logFile?: string,
  ) {
    super();
    this.peripherals = devices.map(({ options, link }) => new FakePeripheral(this, options, link));
  }

  record(entry: FakeEvent): void {
    this.events.push(entry);
    if (this.logFile) appendFileSync(this.logFile, JSON.stringify(entry) + "\n");
  }

  get violations(): FakeEvent[] {
    return this.events.filter((e) => e.event === "violation");
  }

  async startScanningAsync(serviceUuids: string[], allowDuplicates: boolean): Promise<void> {
    if (this.state !== "poweredOn") throw new Error(`scan while the adapter is ${this.state}`);
    if (serviceUuids.length > 0 || !allowDuplicates) {
      this.record({ event: "violation", address: "", detail: "a scan filtered on the service misses devices that send it in the scan response" });
    }
    this.scanning = true;
    for (const peripheral of this.peripherals) {
      if (peripheral.state !== "disconnected") continue;
      // The advertisement (name only), then the scan response that carries the UUIDs, as noble merges them.
      setTimeout(() => this.scanning && this.emit("discover", peripheral), 5);
      setTimeout(() => {
        if (!this.scanning) return;
        peripheral.advertisement.serviceUuids = peripheral.options.uart === false ? [] : [NORDIC_UART.service];
        this.emit("discover", peripheral);
      }, 15);
    }
  }

  async stopScanningAsync(): Promise<void> {
    this.scanning = false;
  }
}

class FakePeripheral extends EventEmitter {
  readonly id: string;
  readonly address: string;
  readonly advertisement: { localName?: string; serviceUuids?: string[] };
  readonly rssi = -58;
  mtu: number | null = null;
  state: "disconnected" | "connected" = "disconnected";
  private readonly rx: FakeCharacteristic;
  private readonly tx: FakeCharacteristic;
  private notified = 0;
  private written = 0;
  private drops: number[];
  private refusals = 0;
  private heldUntil = 0;
  private writing = false;

  constructor(
    private readonly noble: FakeNoble,
    readonly options: FakeDeviceOptions,
    private readonly link: UartLink,
  ) {
    super();
    this.address = options.address.toLowerCase();
    this.id = this.address.replace(/:/g, "");
    this.advertisement = { localName: options.name };
    this.drops = [...(options.dropAfterBytes ?? [])].sort((a, b) => a - b);
    this.rx = new FakeCharacteristic(NORDIC_UART.rx, (data, callback, withoutResponse) => this.onWrite(data, callback, withoutResponse));
    this.tx = new FakeCharacteristic(NORDIC_UART.tx, (_data, callback) => callbackLater(() => callback(new Error("TX only notifies"))));
    link.fromDevice((bytes) => this.notify(bytes));
  }

  async connectAsync(): Promise<void> {
    await tick();
    if (this.state === "connected") throw new Error("already connected");
    if (this.refusals > 0) {
      this.refusals--;
      this.noble.record({ event: "connect-refused", address: this.address });
      throw new Error("connection failed to be established");
    }
    this.state = "connected";
    this.mtu = this.options.mtu ?? 23;
    this.noble.record({ event: "connect", address: this.address });
  }

  async disconnectAsync(): Promise<void> {
    await tick();
    this.lose("disconnect");
  }

  async discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]): Promise<{ characteristics: FakeCharacteristic[] }> {
    await tick();
    if (this.state !== "connected") throw new Error("not connected");
    if (this.options.uart === false || !services.includes(NORDIC_UART.service)) return { characteristics: [] };
    return { characteristics: [this.rx, this.tx].filter((c) => characteristics.includes(c.uuid)) };
  }

  /** The device's output, as notifications of at most MTU - 3 bytes; lost while the link is down. */
  private notify(bytes: Uint8Array): void {
    const size = (this.mtu ?? 23) - 3;
    for (let at = 0; at < bytes.length && this.state === "connected" && this.tx.subscribed; at += size) {
      let piece = bytes.subarray(at, at + size);
      const drop = this.drops[0];
      if (drop !== undefined && this.notified + piece.length >= drop) {
        piece = piece.subarray(0, drop - this.notified);
        this.drops.shift();
        if (piece.length > 0) this.tx.deliver(piece);
        this.notified += piece.length;
        this.refusals = this.options.failedReconnects ?? 0;
        this.noble.record({ event: "drop", address: this.address, bytes: this.notified });
        this.lose("drop");
        return;
      }
      this.notified += piece.length;
      this.tx.deliver(piece);
    }
  }

  private lose(event: "disconnect" | "drop"): void {
    if (this.state !== "connected") return;
    this.state = "disconnected";
    this.tx.subscribed = false;
    this.writing = false;
    if (event === "disconnect") this.noble.record({ event, address: this.address });
    setImmediate(() => this.emit("disconnect"));
  }

  private onWrite(data: Buffer, callback: (error?: unknown) => void, withoutResponse: boolean): void {
    const violation = (detail: string) => this.noble.record({ event: "violation", address: this.address, detail });
    // Without a response, the callback says only that the write was queued: it is no flow control.
    if (withoutResponse) violation("a write without response");
    if (this.state !== "connected") return callbackLater(() => callback(new Error("not connected")));
    if (data.length > (this.mtu ?? 23) - 3) violation(`a write of ${data.length} bytes on an MTU of ${this.mtu}`);
    if (this.writing) violation("a write before the last one's callback");
    if (Date.now() < this.heldUntil) violation("a write while XOFF holds");
    this.writing = true;
    this.noble.record({ event: "write", address: this.address, bytes: data.length });
    const before = this.written;
    this.written += data.length;
    const xoffAt = this.options.xoffAfterBytes;
    if (xoffAt !== undefined && before < xoffAt && this.written >= xoffAt) {
      const ms = this.options.xoffMs ?? 100;
      this.heldUntil = Date.now() + ms;
      this.tx.deliver(Uint8Array.of(0x13));
      setTimeout(() => {
        this.heldUntil = 0;
        if (this.state === "connected") this.tx.deliver(Uint8Array.of(0x11));
      }, ms);
    }
    this.link.toDevice(Uint8Array.from(data));
    callbackLater(() => {
      this.writing = false;
      callback();
    });
  }
}

class FakeCharacteristic extends EventEmitter {
  subscribed = false;

  constructor(
    readonly uuid: string,
    private readonly onWrite: (data: Buffer, callback: (error?: unknown) => void, withoutResponse: boolean) => void,
  ) {
    super();
  }

  write(data: Buffer, withoutResponse: boolean, callback: (error?: unknown) => void): void {
    this.onWrite(data, callback, withoutResponse);
  }

  async subscribeAsync(): Promise<void> {
    await tick();
    this.subscribed = true;
  }

  deliver(bytes: Uint8Array): void {
    const copy = Buffer.from(bytes);
    setImmediate(() => this.emit("data", copy, true));
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function callbackLater(fn: () => void): void {
  setTimeout(fn, 1);
}

/** A UART link to a TCP console, connected when the module loads. */
function tcpLink(target: string): UartLink {
  const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(target);
  if (!match) throw new Error(`fake noble: target ${target} is not tcp://host:port`);
  const socket = new Socket();
  socket.connect(Number(match[2]), match[1]);
  socket.on("error", () => {});
  return {
    toDevice: (bytes) => socket.write(bytes),
    fromDevice: (listener) => socket.on("data", (bytes: Buffer) => listener(new Uint8Array(bytes))),
  };
}

function fromEnvironment(): FakeNoble {
  const text = process.env.FAKE_NOBLE;
  if (!text) throw new Error("fake noble: $FAKE_NOBLE (a FakeNobleConfig as JSON) is not set");
  const config = JSON.parse(text) as FakeNobleConfig;
  const unlinked: UartLink = { toDevice: () => {}, fromDevice: () => {} };
  return new FakeNoble(
    config.devices.map((options) => ({ options, link: options.target ? tcpLink(options.target) : unlinked })),
    config.state ?? "poweredOn",
    config.log,
  );
}

/** What `import()` of $PSTORE_NOBLE_MODULE gives the port, as noble's module gives its instance. */
export default process.env.FAKE_NOBLE ? fromEnvironment() : undefined;

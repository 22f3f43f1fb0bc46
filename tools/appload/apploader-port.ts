// The App Loader's connection to the watch as a Port: an interface page reaches the watch only through the `Puck`
// object of the App Loader's lib/interface.js (`Puck.write(text)`, `Puck.on("data", …)`, strings of one character
// per byte), so DeviceClient talks the host protocol over that, exactly as over a serial line.

import { latin1Bytes, latin1Text } from "../bytes";
import type { Port } from "../ports/types";

/** What the page uses of lib/interface.js's `Puck`. */
export interface AppLoaderPuck {
  write(data: string, callback?: (received: string) => void): void;
  on(event: "data", listener: (data: string) => void): void;
}

type DataListener = (chunk: Uint8Array) => void;
type CloseListener = (error?: Error) => void;

export class AppLoaderPort implements Port {
  readonly description = "the App Loader's connection";
  private open = true;
  private readonly dataListeners = new Set<DataListener>();
  private readonly closeListeners = new Set<CloseListener>();

  constructor(private readonly puck: AppLoaderPuck) {
    // lib/interface.js has no way to remove a listener: this one stays, and goes quiet once the port is closed.
    puck.on("data", (text) => {
      if (!this.open || text.length === 0) return;
      const bytes = latin1Bytes(text);
      for (const listener of [...this.dataListeners]) listener(bytes);
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(data: Uint8Array | string): void {
    if (!this.open) throw new Error(`${this.description}: write after the port closed`);
    this.puck.write(typeof data === "string" ? data : latin1Text(data));
  }

  on(event: "data" | "close", listener: DataListener | CloseListener): this {
    if (event === "data") this.dataListeners.add(listener as DataListener);
    else this.closeListeners.add(listener as CloseListener);
    return this;
  }

  off(event: "data" | "close", listener: DataListener | CloseListener): this {
    if (event === "data") this.dataListeners.delete(listener as DataListener);
    else this.closeListeners.delete(listener as CloseListener);
    return this;
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    for (const listener of [...this.closeListeners]) listener();
  }
}

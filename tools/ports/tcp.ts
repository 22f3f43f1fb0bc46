// A console served over TCP: Espruino's Linux build with --telnet (port 2323), or a serial-to-TCP bridge.

import { Socket } from "node:net";
import { BasePort } from "./types";

class TcpPort extends BasePort {
  constructor(
    private readonly socket: Socket,
    description: string,
  ) {
    super(description);
    socket.on("data", (bytes: Buffer) => this.received(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
    socket.on("error", (error) => this.closed(new Error(`${description}: ${error.message}`)));
    socket.on("close", () => this.closed(new Error(`${description}: connection closed by the other end`)));
  }

  protected send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  protected shutdown(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.removeAllListeners("close");
      this.socket.once("close", () => resolve());
      this.socket.destroy();
    });
  }
}

/** Connects to `host:port`; rejects naming the address when nothing answers within `timeoutMs`. */
export function openTcpPort(host: string, port: number, timeoutMs = 5000): Promise<BasePort> {
  const description = `tcp://${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.setNoDelay(true);
    const fail = (message: string) => {
      socket.destroy();
      reject(new Error(`cannot connect to ${description}: ${message}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.once("error", (error) => fail(error.message));
    socket.connect(port, host, () => {
      socket.setTimeout(0);
      socket.removeAllListeners("error");
      socket.removeAllListeners("timeout");
      resolve(new TcpPort(socket, description));
    });
  });
}

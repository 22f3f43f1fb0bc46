// Serves a simulated device's console on TCP, as Espruino's Linux build does with `--telnet` (port 2323), so host
// tools reach it as `tcp://host:port`. Time runs in real time while the server is up. One client at a time: a new
// connection replaces the previous one, as a new terminal takes over the console.

import net from "node:net";
import type { SimDevice } from "./device";

export interface ConsoleServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export function serveConsole(device: SimDevice, port = 2323, host = "127.0.0.1"): Promise<ConsoleServer> {
  let client: net.Socket | undefined;
  const forward = (bytes: Uint8Array): void => {
    if (client && !client.destroyed) client.write(bytes);
  };
  device.on("output", forward);
  const server = net.createServer((socket) => {
    client?.destroy();
    client = socket;
    socket.on("data", (data) => device.write(new Uint8Array(data)));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      if (client === socket) client = undefined;
    });
    device.connect();
  });
  device.startRealTime();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            device.stopRealTime();
            device.off("output", forward);
            client?.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

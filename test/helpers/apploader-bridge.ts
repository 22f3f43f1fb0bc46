// A stand-in for the App Loader around an app's interface.html: serves the app folder as apps/<id>/ and the
// interface API (apploader-interface.js) as core/lib/interface.js, and relays the page's writes to a device's TCP
// console and everything the device prints back to the page (server-sent events). The device is `pstore sim`.

import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { extname, join, normalize } from "node:path";

export interface Bridge {
  /** The page's address: http://127.0.0.1:PORT/apps/<id>/interface.html */
  pageUrl: string;
  /** Everything the page wrote to the device, as one latin1 string. */
  written(): string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".png": "image/png", ".json": "application/json" };

export async function startBridge(appDir: string, appId: string, device: string): Promise<Bridge> {
  const [host, port] = device.slice("tcp://".length).split(":");
  const socket: Socket = connect(Number(port), host);
  await new Promise<void>((done, fail) => socket.once("connect", done).once("error", fail));
  const listeners = new Set<ServerResponse>();
  let sent = "";
  socket.on("data", (bytes) => {
    const event = `data: ${JSON.stringify(bytes.toString("latin1"))}\n\n`;
    for (const listener of listeners) listener.write(event);
  });
  const api = readFileSync(join(import.meta.dirname, "apploader-interface.js"));
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://bridge");
    if (request.method === "POST" && url.pathname === "/write") {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        const data = JSON.parse(body) as string;
        sent += data;
        socket.write(Buffer.from(data, "latin1"), () => response.end());
      });
    } else if (url.pathname === "/data") {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      response.write(": connected\n\n");
      listeners.add(response);
      request.on("close", () => listeners.delete(response));
    } else if (url.pathname === "/core/lib/interface.js") {
      response.writeHead(200, { "content-type": TYPES[".js"] }).end(api);
    } else if (url.pathname.startsWith(`/apps/${appId}/`)) {
      const file = normalize(url.pathname.slice(`/apps/${appId}/`.length));
      try {
        if (file.startsWith("..")) throw new Error("outside the app");
        response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(join(appDir, file)));
      } catch {
        response.writeHead(404).end();
      }
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port: httpPort } = server.address() as { port: number };
  return {
    pageUrl: `http://127.0.0.1:${httpPort}/apps/${appId}/interface.html`,
    written: () => sent,
    close: async () => {
      for (const listener of listeners) listener.end();
      socket.destroy();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

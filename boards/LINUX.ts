import type { BoardDefinition } from "./types";

// Espruino's Linux build: raw Flash and Storage are the same 256 KB file, so pstore uses Storage files.
// No peek/poke (they crash the process), hence no retained area and no reset register. The variable pool is
// resizable there; jsVars/varBytes are figures for the cost model, not limits. Its firmware has the native
// heatshrink; the JavaScript LZ4 (`--codec lz4`) costs some 74,000 instructions per byte there (callgrind).
export const board: BoardDefinition = {
  name: "LINUX",
  chip: "Linux host",
  flash: [{ addr: 0x10000000, size: 1024, count: 256 }],
  programUnit: 4,
  reprogram: { kind: "clear-only" },
  storage: { addr: 0x10000000, size: 0x40000 },
  backend: "storage",
  storagePageSize: 1024,
  resetReason: { kind: "none", register: 0 },
  jsVars: 20000,
  varBytes: 16,
  timing: { programWordUs: 1, eraseMs: [{ bytes: 1024, ms: 1 }], readBytesPerMs: 100000, endurance: 100000, jsCompressBytesPerMs: 20 },
  codec: "heatshrink",
  lz4HashBits: 10,
  features: { retained: false, ftrace: true },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 8, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 8, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 8, policy: "ring" },
    { name: "ftrace", types: ["ftrace"], pages: 8, policy: "ring" },
  ],
};

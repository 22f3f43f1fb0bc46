// Decodes an ftrace record payload (layout written by pstore/ftrace.ts `Tracer.snapshot`) into call lines:
//   0 u16 entry size (8) · 2 u16 n · 4 u32 calls since start · n × {u16 function id, u16 caller id, u32 uptime ms}
//   · name table (flag FtraceNames): names joined by "\n", line k-1 names id k.

import { Flag, getU32, type DecodedRecordHeader } from "../../pstore/format";

const ENTRY_SIZE = 8;
const HEADER_SIZE = 8;

export function decodeTrace(payload: Uint8Array, header: DecodedRecordHeader): string {
  if (payload.length < HEADER_SIZE) throw new Error(`payload of ${payload.length} bytes is shorter than the ${HEADER_SIZE}-byte trace header`);
  const entrySize = payload[0] | (payload[1] << 8);
  if (entrySize !== ENTRY_SIZE) throw new Error(`entry size ${entrySize}, expected ${ENTRY_SIZE}`);
  const n = payload[2] | (payload[3] << 8);
  const calls = getU32(payload, 4);
  const tableAt = HEADER_SIZE + n * ENTRY_SIZE;
  if (tableAt > payload.length) throw new Error(`${n} entries need ${tableAt} bytes, payload has ${payload.length}`);
  const names =
    header.flags & Flag.FtraceNames ? new TextDecoder().decode(payload.subarray(tableAt)).split("\n") : [];
  const nameOf = (id: number) => (id === 0 ? "(top level)" : (names[id - 1] ?? `#${id}`));

  const lost = (calls - n) >>> 0;
  const lines = [`# ${calls} call${calls === 1 ? "" : "s"} traced, last ${n} kept${lost ? ` (${lost} older overwritten)` : ""}, oldest first`];
  lines.push("# uptime      function <- caller");
  for (let i = 0; i < n; i++) {
    const at = HEADER_SIZE + i * ENTRY_SIZE;
    const fn = payload[at] | (payload[at + 1] << 8);
    const caller = payload[at + 2] | (payload[at + 3] << 8);
    const ms = getU32(payload, at + 4);
    lines.push(`${(ms / 1000).toFixed(3).padStart(10)}s  ${nameOf(fn)} <- ${nameOf(caller)}`);
  }
  return lines.join("\n") + "\n";
}

// The one CRC-32 the host tool uses (FORMAT.md: IEEE, as E.CRC32 computes it on the device).

import CRC32 from "crc-32";

export function crc32(data: Uint8Array): number {
  return CRC32.buf(data) >>> 0;
}

// The host's CRC-32 (FORMAT.md: IEEE, as E.CRC32 computes it on the device), used by the simulated hal, the
// simulated interpreter and the host tool alike.

import CRC32 from "crc-32";

export function crc32(data: Uint8Array): number {
  return CRC32.buf(data) >>> 0;
}

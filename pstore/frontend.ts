// What every frontend shares: the store and the payload codec. One call turns a frontend's
// bytes into a stored record, with the codec rule of codec.ts applied.

import type { Pstore } from "./core";
import type { PayloadCodec } from "./codec";
import { encodePayload } from "./codec";
import { Reason, RecordType } from "./format";

export interface FrontendContext {
  core_: Pstore;
  /** The bundle's compressor, undefined for raw. */
  codec_: PayloadCodec | undefined;
  /** Crash-path compression budget in ms (codec.ts). */
  crashBudgetMs_: number;
}

/** Stores `data` as a record; returns its name, or undefined when the store did not keep it (see Pstore.write). */
export function saveRecord(
  ctx: FrontendContext,
  type: RecordType,
  reason: Reason,
  data: Uint8Array,
  crash: boolean,
  flags: number,
): string | undefined {
  const enc = encodePayload(ctx.codec_, data, crash, ctx.crashBudgetMs_);
  // The debug line is the core's ("wrote …"), which sees every write, the frontends' and the host's.
  return ctx.core_.write(type, reason, enc.bytes, { codec: enc.codec, flags: flags, crash: crash, originalLength: data.length });
}

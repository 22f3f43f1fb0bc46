// The image file `pstore dump` writes, from what the device's dump service sent (docs/FORMAT.md, "What pstore
// dump reads"): the spans' bytes, the retained area, and the layout worked out from the board definition, so the
// image decodes without it.

import type { BoardDefinition } from "../../boards/types";
import type { FlashImage, ImageKind } from "../../hal/sim/image";
import { describeLayout } from "../../hal/sim/image-layout";
import type { DumpResult } from "../protocol/client";
import { DataError } from "../cli/errors";
import { PAGE_FILE_PREFIX } from "../../pstore/pages";

export function imageFromDump(board: BoardDefinition, kind: ImageKind, dump: DumpResult): FlashImage {
  if (dump.info.spans.length === 0) {
    throw new DataError(
      kind === "storage"
        ? `the device's pstore service sends no flash spans for its storage backend (a service older than Storage dumps), so the image would hold no records: nothing written. Update pstore on the device, or use \`pstore pull\`.`
        : `the device's pstore service sends no flash spans for its ${kind} backend, so the image would hold no records: nothing written`,
    );
  }
  let layout;
  try {
    layout = describeLayout(board, kind, dump.info.spans, dump.spans);
  } catch (error) {
    throw new DataError(`the device's dump does not fit board ${board.name}: ${(error as Error).message}`);
  }
  const outside = layout.pages.find((p) => !dump.info.spans.some((s) => p.addr >= s.addr && p.addr + p.size <= s.addr + s.size));
  if (outside) {
    throw new DataError(`the device's dump does not hold all of ${outside.file ?? "the page at 0x" + outside.addr.toString(16)} (${outside.size} bytes from 0x${outside.addr.toString(16)}): nothing written`);
  }
  if (kind === "storage" && layout.pages.length === 0) {
    const spans = dump.info.spans.map((s) => `0x${s.addr.toString(16)}+${s.size}`).join(", ");
    throw new DataError(`the spans the device sent (${spans}) hold no Storage file ${PAGE_FILE_PREFIX}0, ${PAGE_FILE_PREFIX}1, …: nothing written`);
  }
  return {
    board: board.name,
    kind,
    spans: dump.info.spans,
    data: dump.spans,
    layout,
    ...(dump.retained.length ? { retained: dump.retained } : {}),
  };
}

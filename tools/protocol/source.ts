// A device as the pull pipeline sees it: its identity from its status, and its records as a RecordSource. Free of
// Node's modules, so the App Loader page (tools/appload) pulls through the same code as `pstore pull`.

import type { RecordSource, SourceRecord } from "../archive/collect";
import type { DeviceClient } from "./client";

/**
 * "PUCKJS 7f3a1c2b…": board and serial number as the device reports them in its status (`board`, `serial`),
 * which name the archive's device folder. A device that does not say gets "unknown".
 */
export function deviceIdOf(status: Record<string, unknown>): string {
  const text = (value: unknown) => (typeof value === "string" || typeof value === "number" ? String(value) : "");
  const id = [text(status.board), text(status.serial)].filter((s) => s !== "").join(" ");
  return id || "unknown";
}

/** Bytes a record takes on the line: payload, plus header and commit word and padding per part. */
function wireSize(record: SourceRecord): number {
  return record.storedLength + record.parts * 55;
}

/**
 * Records of a device for collectRecords. `list` pulls every record in one stream (DeviceClient.fetchAll) and
 * `fetch` hands out those images; when the device has no bulk call or the stream did not hold together, it lists
 * with `l` and fetches each record with `g` as before. Each listed name once, none lost.
 */
export function deviceSource(client: DeviceClient, deviceId: string): RecordSource {
  const pulled = new Map<string, Uint8Array[]>();
  return {
    deviceId,
    list: async () => {
      pulled.clear();
      const bulk = await client.fetchAll();
      for (const record of bulk.records) pulled.set(record.name, record.images);
      if (bulk.complete) return bulk.records;
      return client.list();
    },
    fetch: async (record, progress) => {
      const images = pulled.get(record.name);
      if (images) {
        pulled.delete(record.name);
        const size = images.reduce((n, image) => n + image.length, 0);
        progress(size, size);
        return images;
      }
      const parts: Uint8Array[] = [];
      let before = 0;
      const estimate = wireSize(record);
      for (let part = 0; part < record.parts; part++) {
        const bytes = await client.fetchPart(record.name, part, {
          onProgress: (done) => progress(before + done, Math.max(estimate, before + done)),
        });
        before += bytes.length;
        parts.push(bytes);
      }
      progress(before, before);
      return parts;
    },
    erase: (name) => client.erase(name),
  };
}

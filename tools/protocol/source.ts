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

export interface DeviceIdentity {
  deviceId: string;
  /** Why this device's records may not be erased: it cannot be told apart from another one. */
  eraseRefusal?: string;
}

/**
 * Who the device is, for the archive: `--device ID` when given (the user vouches for it), otherwise board and serial
 * from its status. Without a serial number two devices would share one folder, so nothing of it is erased.
 */
export function deviceIdentity(status: Record<string, unknown>, given: string | undefined): DeviceIdentity {
  if (given !== undefined && given !== "") return { deviceId: given };
  const deviceId = deviceIdOf(status);
  const serial = status.serial;
  if ((typeof serial === "string" && serial !== "") || typeof serial === "number") return { deviceId };
  return {
    deviceId,
    eraseRefusal: "the device reports no serial number, so its records cannot be told from another device's; name it with --device ID to erase",
  };
}

/** Bytes a record takes on the line: payload, plus header and commit word and padding per part. */
function wireSize(record: SourceRecord): number {
  return record.storedLength + record.parts * 55;
}

/**
 * Records of a device for collectRecords. `list` pulls every record in one stream (DeviceClient.fetchAll), each
 * listed with its images; when the device has no bulk call or the stream did not hold together, it lists with `l`
 * and `fetch` gets each record with `g`.
 */
export function deviceSource(client: DeviceClient, identity: DeviceIdentity): RecordSource {
  return {
    ...identity,
    list: async () => {
      const bulk = await client.fetchAll();
      if (bulk.complete) return bulk.records;
      return client.list();
    },
    fetch: async (record, progress) => {
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

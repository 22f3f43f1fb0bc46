// Bytes and latin1 strings (one character per byte), without Node's Buffer: the host code that the App Loader page
// bundles for the browser (protocol, decoder) and the simulator share these.

/** The bytes of a string, one per character (its low 8 bits). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** A string of one character per byte. */
export function latin1Text(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Standard base64 to bytes; undefined for a character outside the alphabet. */
export function base64Bytes(text: string): Uint8Array | undefined {
  try {
    return latin1Bytes(atob(text));
  } catch {
    return undefined;
  }
}

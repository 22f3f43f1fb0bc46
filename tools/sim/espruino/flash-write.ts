// jshFlashWrite as the firmware does it: any address and length are accepted, and a partly covered word at the
// head or tail is read, merged and programmed whole. That re-programs bytes already written, which is exactly what
// the chips punish, so the simulated flash's rules see it.

import type { SimFlash } from "../../../hal/sim/flash";

function wordSize(flash: SimFlash): number {
  return Math.max(4, flash.board.programUnit);
}

export function flashWrite(flash: SimFlash, addr: number, data: Uint8Array): void {
  if (data.length === 0) return;
  const word = wordSize(flash);
  const end = addr + data.length;
  const firstWhole = Math.ceil(addr / word) * word;
  const lastWhole = Math.floor(end / word) * word;
  if (firstWhole >= lastWhole) {
    // Head and tail fall in the same word(s): merge each word in turn.
    for (let w = Math.floor(addr / word) * word; w < end; w += word) mergeWord(flash, w, addr, data);
    return;
  }
  if (addr < firstWhole) mergeWord(flash, firstWhole - word, addr, data);
  flash.program(firstWhole, data.subarray(firstWhole - addr, lastWhole - addr));
  if (end > lastWhole) mergeWord(flash, lastWhole, addr, data);
}

/** Programs the word at `wordAddr` with the bytes of `data` (placed at `addr`) that fall inside it. */
function mergeWord(flash: SimFlash, wordAddr: number, addr: number, data: Uint8Array): void {
  const word = wordSize(flash);
  const merged = flash.read(wordAddr, word);
  for (let i = 0; i < word; i++) {
    const k = wordAddr + i - addr;
    if (k >= 0 && k < data.length) merged[i] = data[k];
  }
  flash.program(wordAddr, merged);
}

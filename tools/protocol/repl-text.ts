// What Espruino's REPL output reads as on a terminal: before timer output it prints `\r\x1b[J` (erasing the prompt
// `>`), lines end in `\r\n`, and the prompt comes back after each answer. The host's diagnostics and the archive's
// text views show the text without those codes; the archive keeps the bytes as stored beside the view.

const ERASE_LINE = "\x1b[J";
/** CSI escape sequences (colours, cursor moves, erases). */
const ESCAPE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
/** Control characters other than tab and newline, and a lone ESC. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
const PROMPT_ONLY = /^[>:]+\s*$/;

/** One line (no `\n`) as a terminal leaves it: what `\x1b[J` erased gone, `\r`, escapes and control bytes removed. */
export function replLine(line: string): string {
  const erased = line.lastIndexOf(ERASE_LINE);
  return (erased === -1 ? line : line.slice(erased + ERASE_LINE.length)).replace(ESCAPE, "").replace(CONTROL, "");
}

/** Console text as a reader wants it: every line as replLine gives it, lines holding only a prompt dropped. */
export function replText(text: string): string {
  return text
    .split("\n")
    .map(replLine)
    .filter((line) => !PROMPT_ONLY.test(line))
    .join("\n");
}

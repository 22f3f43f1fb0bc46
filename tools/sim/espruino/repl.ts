// The console line discipline of jsinteractive.c: echo, the `>` prompt and `:` continuation, DLE (echo off for one
// line), ENQ, Ctrl-C, `=result`, erasing the prompt (`\r\x1b[J`) before asynchronous output and returning it at
// idle, and moving the console between devices. Byte-compatible with the REPL probes of test/conformance/recordings.
// Not modelled: cursor movement and history (arrow keys are swallowed), tab completion, packets (DLE SOH).

export interface ReplHost {
  /** Bytes (as a latin1 string) leaving on a device. */
  transmit(device: string, text: string): void;
  /** Runs a complete input line; `error` is set when it threw (the REPL then prints no result). */
  evaluate(code: string): { value?: unknown; error?: { thrown: unknown } };
  /** Reports an exception the way jsiCheckErrors does (handler or `Uncaught ...`). */
  reportError(thrown: unknown): void;
  formatResult(value: unknown): string;
  /** `Espruino <version> <board>`, answered to ENQ. */
  identity(): string;
}

const enum InputState {
  None,
  HadDle,
  HadCr,
  HadEsc,
  HadEscBracket,
  HadEscO,
  HadEscNumber,
}

/** Bracket depth of `text` as jsiCountBracketsInInput sees it: > 0 means the input is unfinished. */
export function countBrackets(text: string): number {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return 1000;
      i = end + 2;
      continue;
    }
    if (ch === '"' || ch === "'") {
      i++;
      while (i < text.length && text[i] !== ch) {
        if (text[i] === "\n") return 0;
        if (text[i] === "\\") i++;
        i++;
      }
      if (i >= text.length) return 0;
      i++;
      continue;
    }
    if (ch === "`") {
      i++;
      while (i < text.length && text[i] !== "`") {
        if (text[i] === "\\") i++;
        i++;
      }
      if (i >= text.length) return 1000;
      i++;
      continue;
    }
    if (ch === "{" || ch === "[" || ch === "(") depth++;
    if (ch === "}" || ch === "]" || ch === ")") depth--;
    if (depth < 0) return depth;
    i++;
  }
  return depth;
}

export class Repl {
  inputLine = "";
  /** The prompt and input line are not on the terminal (they will be printed again at idle). */
  inputLineRemoved = false;
  echoOffForLine = false;
  consoleDevice: string;
  consoleForced = false;
  private state = InputState.None;
  /** The number of an `ESC [ n …` sequence being read. */
  private escNumber = 0;
  private ctrlC = false;

  constructor(private readonly host: ReplHost, consoleDevice: string) {
    this.consoleDevice = consoleDevice;
  }

  get echo(): boolean {
    return !this.echoOffForLine;
  }

  private get showInputLine(): boolean {
    return this.echo && !this.inputLineRemoved;
  }

  /** jsiConsolePrintString: `\n` becomes `\r\n`. */
  printString(text: string): void {
    if (text.length === 0) return;
    this.host.transmit(this.consoleDevice, text.replace(/\n/g, "\r\n"));
  }

  /** What print()/console.log and the error reports do: take the prompt away first. */
  print(text: string): void {
    this.removeInputLine();
    this.printString(text);
  }

  removeInputLine(): void {
    if (this.inputLineRemoved) return;
    this.inputLineRemoved = true;
    if (!this.echo) return;
    const lines = this.inputLine.split("\n");
    const lastLine = lines[lines.length - 1];
    let moves = "\x1b[D".repeat(lastLine.length);
    moves += "\x1b[A".repeat(lines.length - 1);
    this.host.transmit(this.consoleDevice, moves + "\r\x1b[J");
  }

  returnInputLine(): void {
    if (!this.inputLineRemoved) return;
    this.inputLineRemoved = false;
    if (this.echo) this.host.transmit(this.consoleDevice, ">" + this.inputLine.replace(/\n/g, "\r\n:"));
  }

  /** Shows the prompt again, as when a terminal (re)connects. */
  reprompt(): void {
    this.inputLineRemoved = true;
    this.returnInputLine();
  }

  /** jsiSetConsoleDevice. */
  setConsole(device: string, force: boolean): void {
    this.consoleForced = force;
    if (device === this.consoleDevice) return;
    const echo = this.echo;
    if (echo) {
      this.removeInputLine();
      this.printString(`-> ${device}\n`);
    }
    const old = this.consoleDevice;
    this.consoleDevice = device;
    if (echo) this.printString(`<- ${old}\n`);
  }

  /** Ctrl-C arrives out of band (an interrupt on the chip); the line is cleared at the end of the idle loop. */
  interrupt(): void {
    this.ctrlC = true;
  }

  /** End of jsiLoop: a pending Ctrl-C clears the line, then the prompt comes back. */
  endOfLoop(): void {
    if (this.ctrlC) {
      this.ctrlC = false;
      if (this.inputLine.length > 0) {
        this.removeInputLine();
        this.inputLine = "";
      }
    }
    this.returnInputLine();
  }

  handleChars(text: string): void {
    for (const ch of text) this.handleChar(ch);
  }

  private handleChar(ch: string): void {
    const code = ch.charCodeAt(0);
    const state = this.state;
    if (code === 0) {
      this.state = InputState.None;
    } else if (code === 1 || code === 3) {
      // SOH starts a packet transfer (not modelled); Ctrl-C was handled as an interrupt.
    } else if (code === 5) {
      if (this.inputLine.length === 0) this.printString(this.host.identity() + "\n");
    } else if (code === 16) {
      if (this.inputLine.length === 0) this.echoOffForLine = true;
      this.state = InputState.HadDle;
    } else if (code === 27) {
      this.state = InputState.HadEsc;
    } else if (state === InputState.HadEsc) {
      this.state = ch === "[" ? InputState.HadEscBracket : ch === "O" ? InputState.HadEscO : InputState.None;
      if (ch === "\n") this.handleNewLine(false);
    } else if (state === InputState.HadEscBracket) {
      this.state = ch >= "0" && ch <= "9" ? InputState.HadEscNumber : InputState.None;
      this.escNumber = Number(ch);
    } else if (state === InputState.HadEscNumber) {
      if (ch >= "0" && ch <= "9") {
        this.escNumber = 10 * this.escNumber + Number(ch);
      } else {
        this.state = InputState.None;
        // ESC [ 2 H: erase the input line (jsiClearInputLine), how a host clears it without Ctrl-C.
        if (ch === "H" && this.escNumber === 2 && this.inputLine.length > 0) {
          this.removeInputLine();
          this.inputLine = "";
        }
      }
    } else if (state === InputState.HadEscO) {
      this.state = InputState.None;
    } else {
      this.state = InputState.None;
      if (code === 8 || code === 0x7f) {
        this.backspace();
      } else if (ch === "\n" && state === InputState.HadCr) {
        // \r\n: already handled at the \r
      } else if (ch === "\r" || ch === "\n") {
        if (ch === "\r") this.state = InputState.HadCr;
        this.handleNewLine(true);
      } else if (code >= 32 || ch === "\t") {
        const text = ch === "\t" ? "    " : ch;
        this.inputLine += text;
        if (this.showInputLine) this.printString(text);
      }
    }
  }

  private backspace(): void {
    if (this.inputLine.length === 0) return;
    const removed = this.inputLine[this.inputLine.length - 1];
    this.inputLine = this.inputLine.slice(0, -1);
    if (!this.showInputLine) return;
    if (removed === "\n") {
      const lines = this.inputLine.split("\n");
      this.host.transmit(this.consoleDevice, "\x1b[J\x08 " + "\x1b[A" + "\x1b[C".repeat(lines[lines.length - 1].length + 1));
    } else {
      this.host.transmit(this.consoleDevice, "\x08 \x08");
    }
  }

  private handleNewLine(execute: boolean): void {
    if (!execute || countBrackets(this.inputLine) > 0) {
      if (this.showInputLine) this.printString("\n:");
      this.inputLine += "\n";
      return;
    }
    if (this.showInputLine) this.printString("\n");
    if (!this.echoOffForLine) this.inputLineRemoved = true;
    const line = this.inputLine.replace(/\s+$/, "");
    this.inputLine = "";
    const outcome = this.host.evaluate(line);
    if (this.echo && !outcome.error && line.length > 0) {
      this.host.transmit(this.consoleDevice, "=");
      this.printString(this.host.formatResult(outcome.value) + "\n");
    }
    if (outcome.error) this.host.reportError(outcome.error.thrown);
    this.echoOffForLine = false;
  }
}

// Every way the command can fail, each with its own documented exit code (README.md, "Exit codes").

export enum ExitCode {
  Ok = 0,
  /** A bug or an error nobody classified: the message and stack go to stderr. */
  Internal = 1,
  /** Bad command line: unknown subcommand or option, missing argument. */
  Usage = 2,
  /** The port cannot be opened, the device does not answer, or it answers with something the protocol rejects. */
  Device = 3,
  /** The archive folder cannot be written (full, read-only, not a folder): nothing was erased. */
  Archive = 4,
  /** The data is wrong: no such record, an image that does not parse, a record that failed verification. */
  Data = 5,
  /** Ctrl-C. */
  Interrupted = 130,
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}

export class DeviceError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Device);
  }
}

export class ArchiveError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Archive);
  }
}

export class DataError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Data);
  }
}

/**
 * A message as the terminal may show it: text from a device (an error it sent, a name it chose) can carry escape
 * sequences, so every control character but the line break is written as `\xNN`.
 */
export function terminalMessage(message: string): string {
  return message.replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

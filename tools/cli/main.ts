// `pstore <subcommand> …`: finds the subcommand, parses its options, runs it, and turns every failure into a
// one-line message and a documented exit code (errors.ts).

import { readFileSync } from "node:fs";
import { CliError, ExitCode, terminalMessage, UsageError } from "./errors";
import { parseCommand, type CliIo, type Command } from "./command";
import { catCommand } from "./cat";
import { completionCommand } from "./completion";
import { decodeCommand } from "./decode";
import { dumpCommand } from "./dump";
import { installCommand } from "./install";
import { listCommand } from "./list";
import { portsCommand } from "./ports";
import { pullCommand } from "./pull";
import { rmCommand } from "./rm";
import { simCommand } from "./sim";
import { statusCommand } from "./status";
import { uninstallCommand } from "./uninstall";

export const COMMANDS: Command[] = [
  listCommand,
  pullCommand,
  catCommand,
  rmCommand,
  statusCommand,
  dumpCommand,
  decodeCommand,
  installCommand,
  uninstallCommand,
  simCommand,
  portsCommand,
  completionCommand(() => COMMANDS),
];

export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    internal error (a bug: please report it with the message)
  2    bad command line
  3    device or port error: cannot open the port, no answer, protocol failure
  4    archive folder cannot be written (full, read-only, not a folder); nothing was erased
  5    bad data: no such record, image that does not parse, records refused, not verified or
       left on the device (no serial number, a name listed twice)
  130  interrupted (Ctrl-C); what was archived is complete, nothing else was erased`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return `${pkg.name} ${pkg.version}`;
}

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `pstore: pull, verify, decode and archive crash records from Espruino devices

Usage: pstore <command> [options]      pstore <command> --help

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Ports (--port): a serial device (/dev/ttyACM0, COM3), tcp://host:port (Espruino's telnet console,
WiFi boards, \`pstore sim\`), or a Bluetooth LE device, ble://AA:BB:CC:DD:EE:FF or ble:NAME (Puck.js,
Pixl.js, MDBT42Q, Bangle.js). \`pstore ports\` lists them. $PSTORE_PORT is the default.

${EXIT_CODE_HELP}
`;
}

export async function main(argv: string[], io?: Partial<CliIo>): Promise<number> {
  const controller = new AbortController();
  const full: CliIo = { stdout: io?.stdout ?? process.stdout, stderr: io?.stderr ?? process.stderr, signal: io?.signal ?? controller.signal };
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
    controller.abort();
  };
  if (!io?.signal) process.on("SIGINT", onSigint);
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const target = name === "help" && rest[0] ? findCommand(rest[0]) : undefined;
      full.stdout.write(target ? target.help : topHelp());
      return name === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    if (name === "--version" || name === "-V") {
      full.stdout.write(version() + "\n");
      return ExitCode.Ok;
    }
    const command = findCommand(name);
    const parsed = parseCommand(command, rest);
    if (parsed.values.help) {
      full.stdout.write(command.help);
      return ExitCode.Ok;
    }
    return await command.run(parsed, full);
  } catch (error) {
    if (error instanceof CliError) {
      full.stderr.write(terminalMessage(`pstore${name && !name.startsWith("-") ? " " + name : ""}: ${error.message}`) + "\n");
      return error.exitCode;
    }
    full.stderr.write(terminalMessage(`pstore: internal error: ${(error as Error)?.stack ?? String(error)}`) + "\n");
    return ExitCode.Internal;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
  return command;
}

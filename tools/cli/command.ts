// The shape every subcommand module exports, and the option parsing they share.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { boardNames, getBoard } from "../../boards/index";
import type { BoardDefinition } from "../../boards/types";
import { parseRecordName } from "../../pstore/format";
import { describeName } from "../archive/safe-names";
import { UsageError, type ExitCode } from "./errors";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type OptionValues = Record<string, string | boolean | undefined>;

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Aborted on Ctrl-C: long operations stop at the next safe point and the command exits with 130. */
  signal: AbortSignal;
}

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line for `pstore --help`. */
  summary: string;
  /** The full `pstore <name> --help` text (usage line first). */
  help: string;
  options: OptionSpec;
  /** Names of the positional arguments, in order; all required. */
  positionals: string[];
  run(args: ParsedCommand, io: CliIo): Promise<ExitCode>;
}

/** Options every device subcommand takes; their help lines are device.ts's PORT_HELP. */
export const PORT_OPTIONS: OptionSpec = {
  port: { type: "string", short: "p" },
  baud: { type: "string" },
  timeout: { type: "string" },
};

export function parseCommand(command: Command, argv: string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${parseErrorText((error as Error).message, command.options)}\n${usageLine(command)}`);
  }
  if (parsed.values.help) return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  const expected = command.positionals.length;
  if (parsed.positionals.length !== expected) {
    const what = expected === 0 ? "no arguments" : command.positionals.map((p) => p.toUpperCase()).join(" ");
    throw new UsageError(`expected ${what}, got ${parsed.positionals.length === 0 ? "none" : parsed.positionals.map((p) => JSON.stringify(p)).join(" ")}\n${usageLine(command)}`);
  }
  return { values: parsed.values as OptionValues, positionals: parsed.positionals };
}

/** node:util's parseArgs message in one line, in this tool's words where its own would puzzle. */
function parseErrorText(message: string, options: OptionSpec): string {
  const ambiguous = /^Option '(-[^']*)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const given = ambiguous[1].split(", ").pop()!;
    const short = Object.entries(options).find(([, spec]) => given === `-${spec.short}`);
    const option = short ? `--${short[0]}` : given;
    return `${option} wants a value, but the next argument starts with "-": write ${option}=VALUE if that is its value`;
  }
  return message.replace(/\. To specify .*$/s, "");
}

function usageLine(command: Command): string {
  return `${command.help.split("\n")[0]}\n(see pstore ${command.name} --help)`;
}

export function requiredString(values: OptionValues, name: string, fallback?: string): string {
  const value = values[name];
  if (typeof value === "string" && value !== "") return value;
  if (fallback !== undefined && fallback !== "") return fallback;
  throw new UsageError(`--${name} is required`);
}

/**
 * The board a command line names, in any letter case (`puckjs` is PUCKJS); an unknown name is a bad command line
 * (exit 2), the message lists the valid ones.
 */
export function boardOption(name: string): BoardDefinition {
  try {
    return getBoard(boardNames().find((board) => board.toLowerCase() === name.toLowerCase()) ?? name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A record name given on the command line: `<type>-<backend>-<seq>` as `pstore list` shows it, or a usage error. */
export function recordNameArgument(name: string): string {
  if (!parseRecordName(name)) throw new UsageError(`${describeName(name)} is not a record name: names are <type>-<backend>-<seq>, as pstore list shows them`);
  return name;
}

/** A number option within `range` (`min` defaults to "above 0"), or a usage error saying the range. */
export function positiveNumber(values: OptionValues, name: string, fallback: number, range: { min?: number; max: number }): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  const low = range.min ?? 0;
  if (typeof value !== "string" || !Number.isFinite(n) || n < low || (range.min === undefined && n === 0) || n > range.max) {
    throw new UsageError(`--${name} wants a number ${range.min === undefined ? "above 0" : `from ${range.min}`} up to ${range.max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

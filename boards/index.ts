// Board registry. Host code and the build pick a board by name; a device bundle imports only its own board file.

import type { BoardDefinition } from "./types";
import { board as BANGLEJS2 } from "./BANGLEJS2";
import { board as ESP32 } from "./ESP32";
import { board as ESPRUINOWIFI } from "./ESPRUINOWIFI";
import { board as JOLTJS } from "./JOLTJS";
import { board as LINUX } from "./LINUX";
import { board as MDBT42Q } from "./MDBT42Q";
import { board as ORIGINAL } from "./ORIGINAL";
import { board as PICO } from "./PICO";
import { board as PIXLJS } from "./PIXLJS";
import { board as PUCKJS } from "./PUCKJS";

export const boards: { [name: string]: BoardDefinition } = {
  PUCKJS: PUCKJS,
  PIXLJS: PIXLJS,
  MDBT42Q: MDBT42Q,
  BANGLEJS2: BANGLEJS2,
  JOLTJS: JOLTJS,
  PICO: PICO,
  ESPRUINOWIFI: ESPRUINOWIFI,
  ORIGINAL: ORIGINAL,
  ESP32: ESP32,
  LINUX: LINUX,
};

export function boardNames(): string[] {
  return Object.keys(boards);
}

export function getBoard(name: string): BoardDefinition {
  const board = boards.hasOwnProperty(name) ? boards[name] : undefined;
  if (!board) throw new Error('unknown board "' + name + '"; valid boards: ' + boardNames().join(", "));
  return board;
}

// Source map v3 reading and the one rewrite the build needs (moving generated code around), with the
// Base64 VLQ codec written out: the format is small and a dependency would cost more than it saves.

export interface SourceMap {
  version: number;
  sources: string[];
  names?: string[];
  mappings: string;
  sourceRoot?: string;
  sourcesContent?: (string | null)[];
  file?: string;
}

/** One mapping segment; columns are 0-based, lines 0-based as in the format. */
export interface Segment {
  generatedColumn: number;
  source?: number;
  line?: number;
  column?: number;
  name?: number;
}

export interface OriginalPosition {
  file: string;
  /** 1-based. */
  line: number;
  /** 0-based. */
  column: number;
  name?: string;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Base64 digit value by character code; -1 for characters outside the alphabet. */
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_VALUE[BASE64.charCodeAt(i)] = i;

function encodeVlq(value: number): string {
  let rest = value < 0 ? -value * 2 + 1 : value * 2;
  let out = "";
  do {
    let digit = rest & 31;
    rest = Math.floor(rest / 32);
    if (rest > 0) digit |= 32;
    out += BASE64[digit];
  } while (rest > 0);
  return out;
}

/** Decodes `mappings` into one sorted segment list per generated line. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let segments: Segment[] = [];
  const fields: number[] = [];
  let generatedColumn = 0;
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  let value = 0;
  let shift = 0;
  const endSegment = () => {
    if (shift !== 0) throw new Error(`source map: unterminated VLQ value on generated line ${lines.length + 1}`);
    if (fields.length === 0) return;
    generatedColumn += fields[0];
    const segment: Segment = { generatedColumn };
    if (fields.length >= 4) {
      segment.source = source += fields[1];
      segment.line = line += fields[2];
      segment.column = column += fields[3];
      if (fields.length >= 5) segment.name = name += fields[4];
    }
    segments.push(segment);
    fields.length = 0;
  };
  const endLine = () => {
    endSegment();
    segments.sort((a, b) => a.generatedColumn - b.generatedColumn);
    lines.push(segments);
    segments = [];
    generatedColumn = 0;
  };
  for (let i = 0; i < mappings.length; i++) {
    const code = mappings.charCodeAt(i);
    if (code === 59 /* ; */) endLine();
    else if (code === 44 /* , */) endSegment();
    else {
      const digit = code < 128 ? BASE64_VALUE[code] : -1;
      if (digit < 0) throw new Error(`source map: bad Base64 character ${JSON.stringify(mappings[i])} on generated line ${lines.length + 1}`);
      value += (digit & 31) * 2 ** shift;
      if (digit & 32) shift += 5;
      else {
        fields.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
        value = 0;
        shift = 0;
      }
    }
  }
  endLine();
  return lines;
}

export function encodeMappings(lines: Segment[][]): string {
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  return lines
    .map((segments) => {
      let generatedColumn = 0;
      return segments
        .map((segment) => {
          let text = encodeVlq(segment.generatedColumn - generatedColumn);
          generatedColumn = segment.generatedColumn;
          if (segment.source !== undefined && segment.line !== undefined && segment.column !== undefined) {
            text += encodeVlq(segment.source - source) + encodeVlq(segment.line - line) + encodeVlq(segment.column - column);
            source = segment.source;
            line = segment.line;
            column = segment.column;
            if (segment.name !== undefined) {
              text += encodeVlq(segment.name - name);
              name = segment.name;
            }
          }
          return text;
        })
        .join(",");
    })
    .join(";");
}

/**
 * Answers "where did generated line:column come from". `line` is 1-based, `column` 0-based (acorn's convention).
 * Uses the last segment at or before the column on that line; positions with no mapping give undefined.
 * `name` is the original identifier when a segment starts exactly at the position and carries one.
 */
export function createLocator(map: SourceMap): (line: number, column: number) => OriginalPosition | undefined {
  const lines = decodeMappings(map.mappings);
  const root = map.sourceRoot ? map.sourceRoot.replace(/\/?$/, "/") : "";
  return (line, column) => {
    const segments = lines[line - 1];
    if (!segments) return undefined;
    let found: Segment | undefined;
    for (const segment of segments) {
      if (segment.generatedColumn > column) break;
      found = segment;
    }
    if (!found || found.source === undefined || found.line === undefined || found.column === undefined) return undefined;
    const file = map.sources[found.source];
    if (file === undefined) return undefined;
    const position: OriginalPosition = { file: root + file, line: found.line + 1, column: found.column };
    // A name belongs to the token that starts exactly at the segment.
    if (found.generatedColumn === column && found.name !== undefined && map.names?.[found.name] !== undefined) {
      position.name = map.names[found.name];
    }
    return position;
  };
}

/** Offsets where each line starts, for converting between offsets and line:column. */
export function lineStarts(code: string): number[] {
  const starts = [0];
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/**
 * Rewrites the generated side of `map` after the generated code was changed by `moveOffset`
 * (old offset → new offset; every mapped character must still exist).
 */
export function remapGenerated(
  map: SourceMap,
  oldCode: string,
  newCode: string,
  moveOffset: (offset: number) => number,
): SourceMap {
  const oldStarts = lineStarts(oldCode);
  const newStarts = lineStarts(newCode);
  const moved: Segment[][] = newStarts.map(() => []);
  decodeMappings(map.mappings).forEach((segments, line) => {
    for (const segment of segments) {
      const offset = moveOffset(oldStarts[line] + segment.generatedColumn);
      let newLine = 0;
      while (newLine + 1 < newStarts.length && newStarts[newLine + 1] <= offset) newLine++;
      moved[newLine].push({ ...segment, generatedColumn: offset - newStarts[newLine] });
    }
  });
  for (const segments of moved) segments.sort((a, b) => a.generatedColumn - b.generatedColumn);
  return { ...map, mappings: encodeMappings(moved) };
}

/** A replacement of generated code [start, end) by `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Applies non-overlapping edits to generated code and keeps the map in step: code after an edit moves with it,
 * and a mapping inside a replaced range now points at the start of its replacement.
 */
export function editGenerated(code: string, map: SourceMap, edits: Edit[]): { code: string; map: SourceMap } {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let last = 0;
  /** For each edit, where it starts in the new code and how far later code moved. */
  const placed: Array<{ edit: Edit; at: number; shift: number }> = [];
  for (const edit of sorted) {
    if (edit.start < last) throw new Error(`overlapping edits at offset ${edit.start}`);
    out += code.slice(last, edit.start);
    const at = out.length;
    out += edit.text;
    last = edit.end;
    placed.push({ edit, at, shift: out.length - edit.end });
  }
  out += code.slice(last);
  const moveOffset = (offset: number): number => {
    let shift = 0;
    for (const { edit, at, shift: after } of placed) {
      if (offset < edit.start) break;
      if (offset < edit.end) return at;
      shift = after;
    }
    return offset + shift;
  };
  return { code: out, map: remapGenerated(map, code, out, moveOffset) };
}

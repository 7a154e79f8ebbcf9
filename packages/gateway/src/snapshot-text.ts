// Parsing a snapshot's JSON text as steps of a load: a scanner finds the top-level members and the entries of the
// large collections (routes, consumers, keys), and each entry is JSON.parse'd on its own, yielding in between, so no
// single parse holds the event loop for a whole 30 MB document. The result is exactly JSON.parse's.
import { createHash } from 'node:crypto';
import { SNAPSHOT_COLLECTIONS } from '@apigov/model';
import type { LoadSteps } from './load-slices.js';

/** texts shorter than this are parsed in one go */
export const SLICED_PARSE_FROM_CHARS = 256 * 1024;
/** characters parsed between yields */
const CHARS_PER_STEP = 128 * 1024;

const COLLECTIONS: ReadonlySet<string> = new Set(SNAPSHOT_COLLECTIONS);

/** the text is not what the scanner expects; JSON.parse of the whole text then decides (and names the error) */
class Unexpected extends Error {}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** What the parse saw of the text besides its value. */
export interface SnapshotTextDigests {
  /**
   * sha256 of the routes' entries as written (each length-prefixed): equal digests mean equal routes, so a load can
   * reuse what it verified and compiled from them before. Only for a text parsed in pieces.
   */
  routes?: string;
}

/**
 * Parses `text` as JSON.parse does (same value, same SyntaxError), in steps for a large text; `digests` (when given)
 * receives what SnapshotTextDigests describes.
 */
export function* parseSnapshotText(text: string, slicedFrom = SLICED_PARSE_FROM_CHARS, digests?: SnapshotTextDigests): LoadSteps<unknown> {
  if (text.length < slicedFrom) return JSON.parse(text) as unknown;
  try {
    return yield* parseInPieces(text, digests);
  } catch (err) {
    if (!(err instanceof Unexpected) && !(err instanceof SyntaxError)) throw err;
    if (digests !== undefined) delete digests.routes; // nothing vouches for a digest of a text read in one go
    // not the shape the scanner knows, or not JSON: the whole text at once says which (and throws if it is invalid)
    return JSON.parse(text) as unknown;
  }
}

function* parseInPieces(text: string, digests: SnapshotTextDigests | undefined): LoadSteps<unknown> {
  const s = new Scanner(text);
  s.skipSpace();
  s.expect(OPEN_BRACE);
  const members: Array<[string, unknown]> = [];
  let parsedChars = 0;
  s.skipSpace();
  if (s.peek() !== CLOSE_BRACE) {
    for (;;) {
      s.skipSpace();
      const key = s.key();
      s.skipSpace();
      s.expect(COLON);
      s.skipSpace();
      const open = s.peek();
      if (COLLECTIONS.has(key) && (open === OPEN_BRACKET || open === OPEN_BRACE)) {
        // a large collection: its entries one by one
        s.pos++;
        const array = open === OPEN_BRACKET;
        const items: unknown[] = [];
        const entries: Array<[string, unknown]> = [];
        const digest = key === 'routes' && array && digests !== undefined ? createHash('sha256') : undefined;
        s.skipSpace();
        if (s.peek() === (array ? CLOSE_BRACKET : CLOSE_BRACE)) s.pos++;
        else {
          for (;;) {
            s.skipSpace();
            let entryKey = '';
            if (!array) {
              entryKey = s.key();
              s.skipSpace();
              s.expect(COLON);
              s.skipSpace();
            }
            const start = s.pos;
            s.skipValue();
            const piece = text.slice(start, s.pos);
            const value: unknown = JSON.parse(piece);
            if (digest !== undefined) digest.update(`${piece.length}:`).update(piece);
            if (array) items.push(value);
            else entries.push([entryKey, value]);
            parsedChars += s.pos - start;
            if (parsedChars >= CHARS_PER_STEP) {
              parsedChars = 0;
              yield;
            }
            s.skipSpace();
            if (s.peek() === COMMA) {
              s.pos++;
              continue;
            }
            s.expect(array ? CLOSE_BRACKET : CLOSE_BRACE);
            break;
          }
        }
        // fromEntries defines own properties as JSON.parse does: the last duplicate wins, __proto__ stays a key
        members.push([key, array ? items : Object.fromEntries(entries)]);
        if (digest !== undefined) digests!.routes = digest.digest('hex');
      } else {
        const start = s.pos;
        s.skipValue();
        members.push([key, JSON.parse(text.slice(start, s.pos)) as unknown]);
        parsedChars += s.pos - start;
      }
      s.skipSpace();
      if (s.peek() === COMMA) {
        s.pos++;
        continue;
      }
      break;
    }
  }
  s.expect(CLOSE_BRACE);
  s.skipSpace();
  if (s.pos !== text.length) throw new Unexpected();
  return Object.fromEntries(members);
}

/** Finds where JSON values end (strings, nesting) without building them. */
class Scanner {
  pos = 0;
  constructor(private readonly text: string) {}

  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length && isSpace(t.charCodeAt(this.pos))) this.pos++;
  }

  expect(c: number): void {
    if (this.peek() !== c) throw new Unexpected();
    this.pos++;
  }

  /** the end (after the closing quote) of the string starting at pos */
  private stringEnd(from: number): number {
    const t = this.text;
    let i = from + 1;
    for (;;) {
      const q = t.indexOf('"', i);
      if (q === -1) throw new Unexpected();
      // escaped when preceded by an odd number of backslashes
      let b = q - 1;
      while (b >= from + 1 && t.charCodeAt(b) === BACKSLASH) b--;
      if ((q - 1 - b) % 2 === 0) return q + 1;
      i = q + 1;
    }
  }

  /** an object key (a JSON string), decoded */
  key(): string {
    if (this.peek() !== QUOTE) throw new Unexpected();
    const start = this.pos;
    this.pos = this.stringEnd(start);
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  /** moves past one value: a string, an object or array (to its matching close), or a literal or number */
  skipValue(): void {
    const t = this.text;
    const c = this.peek();
    if (c === QUOTE) {
      this.pos = this.stringEnd(this.pos);
      return;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      let depth = 0;
      let i = this.pos;
      while (i < t.length) {
        const ch = t.charCodeAt(i);
        if (ch === QUOTE) {
          i = this.stringEnd(i);
          continue;
        }
        if (ch === OPEN_BRACE || ch === OPEN_BRACKET) depth++;
        else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
          depth--;
          if (depth === 0) {
            this.pos = i + 1;
            return;
          }
        }
        i++;
      }
      throw new Unexpected();
    }
    // number, true, false, null: up to the next delimiter (JSON.parse of the piece checks it)
    let i = this.pos;
    while (i < t.length) {
      const ch = t.charCodeAt(i);
      if (ch === COMMA || ch === CLOSE_BRACE || ch === CLOSE_BRACKET || isSpace(ch)) break;
      i++;
    }
    if (i === this.pos) throw new Unexpected();
    this.pos = i;
  }
}

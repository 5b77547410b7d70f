/**
 * Finds the highlighted pieces of a sled-kv cell.
 *
 * It reads a cell the way the kernel does (kernel/interpreter's lexer and
 * parser): a statement starts at the beginning of a line with a command
 * word; its arguments are words that are bare (`todo:001`), hex (`0x00ff`),
 * double-quoted with escapes, `b"byte strings"` or 'single-quoted'; a quoted
 * word may run over line breaks; `a..b` and `a..=b` are one word; a `#` that
 * starts a word begins a comment. `echo`, `warn` and `abort` take the rest of
 * their line as it is, and `%time`, `expect` are followed by another command;
 * in an `expect` line the first comparison word (`==`, `!=`, `<`, `<=`, `>`,
 * `>=`) ends the checked command and a value follows it.
 * A cell whose first non-blank line is `%%rust` holds Rust from its second line.
 *
 * Scanning never fails: unfinished or wrong text is still coloured as far as
 * it can be, and the kernel reports the mistake when the cell runs.
 */
import { ICommand, Role } from './table';

/** The kinds of highlighted pieces; each is a node type of the syntax tree. */
export enum Kind {
  Command = 1,
  Block,
  Magic,
  Key,
  Value,
  Path,
  Number,
  Hex,
  String,
  Escape,
  RangeOp,
  CompareOp,
  Option,
  Absent,
  Text,
  Comment,
  Word,
  RustCode
}

export interface IToken {
  readonly kind: Kind;
  readonly from: number;
  readonly to: number;
  /** How many tokens just before this one lie inside it (a string's escapes). */
  readonly children: number;
}

/** The Rust cell marker and the magic around Rust cells, from kernel/rust_cells. */
const RUST_CELL = '%%rust';
const RUST_MAGIC = '%rust';

const NUMBER = /^-?\d+(\.\d+)?$/;
/** The comparisons of `expect LINE OP VALUE`, as the kernel's parser has them. */
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const ESCAPE = /\\(x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]{1,6}\}|[nrt0\\"'])/y;

function isSpace(c: string): boolean {
  return /\s/.test(c);
}

function isInlineSpace(c: string): boolean {
  return c !== '\n' && isSpace(c);
}

/** How a word is written: decides how its text is coloured. */
type Form = 'bare' | 'hex' | 'double' | 'bytes' | 'single';

function formAt(text: string, at: number): Form {
  if (text.startsWith('"', at)) {
    return 'double';
  } else if (text.startsWith('b"', at)) {
    return 'bytes';
  } else if (text.startsWith("'", at)) {
    return 'single';
  } else if (text.startsWith('0x', at)) {
    return 'hex';
  }
  return 'bare';
}

function quoteOf(form: Form): string | null {
  return form === 'double' || form === 'bytes' ? '"' : form === 'single' ? "'" : null;
}

function openerLength(form: Form): number {
  return form === 'bytes' || form === 'hex' ? 2 : form === 'bare' ? 0 : 1;
}

/** Where a statement's arguments stand, to know what the next word is. */
interface IArgs {
  readonly command: ICommand | null;
  /** Arguments of `%rust` (`reset`, `deps`). */
  readonly rustMagic: boolean;
  index: number;
  afterLimit: boolean;
  /** Inside `expect …`, where a comparison word ends the checked command. */
  readonly expecting: boolean;
  afterCompare: boolean;
}

export class Scanner {
  private pos: number;
  readonly tokens: IToken[] = [];

  constructor(
    private readonly text: string,
    private readonly table: ReadonlyMap<string, ICommand>,
    /** Where scanning starts and stops, in the text's own positions. */
    from = 0,
    private readonly end = text.length
  ) {
    this.pos = from;
  }

  /** Where the scan has got to. */
  get position(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * At the start of a cell: when its first non-blank line is `%%rust`,
   * marks it and the Rust below, and returns true.
   */
  rustCell(): boolean {
    let at = this.pos;
    while (at < this.end && isSpace(this.text[at])) {
      at++;
    }
    let wordEnd = at;
    while (wordEnd < this.end && !isSpace(this.text[wordEnd])) {
      wordEnd++;
    }
    if (this.text.slice(at, wordEnd).toLowerCase() !== RUST_CELL) {
      return false;
    }
    this.push(Kind.Magic, at, wordEnd);
    let lineEnd = this.text.indexOf('\n', wordEnd);
    lineEnd = lineEnd < 0 || lineEnd > this.end ? this.end : lineEnd;
    // Words after the marker are a mistake the kernel reports; they stay plain.
    const body = Math.min(lineEnd + 1, this.end);
    if (body < this.end) {
      this.push(Kind.RustCode, body, this.end);
    }
    this.pos = this.end;
    return true;
  }

  /**
   * Scans statements until the text ends or the scan has passed `until`;
   * always stops at the start of a line, outside any statement.
   */
  statements(until = Infinity): void {
    while (this.pos < until) {
      this.skipSpace();
      if (this.pos >= this.end) {
        return;
      }
      if (this.text[this.pos] === '#') {
        this.comment();
      } else {
        this.statement();
      }
    }
  }

  private push(kind: Kind, from: number, to: number, children = 0): void {
    if (to > from) {
      this.tokens.push({ kind, from, to, children });
    }
  }

  private skipSpace(): void {
    while (this.pos < this.end && isSpace(this.text[this.pos])) {
      this.pos++;
    }
  }

  private skipInlineSpace(): void {
    while (this.pos < this.end && isInlineSpace(this.text[this.pos])) {
      this.pos++;
    }
  }

  private lineEnd(): number {
    const at = this.text.indexOf('\n', this.pos);
    return at < 0 || at > this.end ? this.end : at;
  }

  private comment(): void {
    const end = this.lineEnd();
    this.push(Kind.Comment, this.pos, end);
    this.pos = end;
  }

  /**
   * One statement: a command word and what follows it on its line. After
   * `%time` or `expect` that is another command word, and so on.
   */
  private statement(): void {
    let expecting = false;
    for (;;) {
      const from = this.pos;
      this.word();
      const to = this.pos;
      const name = this.text.slice(from, to).toLowerCase();
      const command = formAt(this.text, from) === 'bare' ? this.table.get(name) : undefined;
      if (!command) {
        const rustMagic = name === RUST_MAGIC;
        if (rustMagic) {
          this.push(Kind.Magic, from, to);
        } else {
          // Not a command (the kernel says which it might be): plain, or
          // coloured by its form when it is quoted or hex.
          this.rangeWord(from, to, 'other');
        }
        this.args({
          command: null,
          rustMagic,
          index: 0,
          afterLimit: false,
          expecting,
          afterCompare: false
        });
        return;
      }
      this.push(command.block ? Kind.Block : command.magic ? Kind.Magic : Kind.Command, from, to);
      expecting = expecting || name === 'expect';
      if (command.shape === 'text') {
        this.restOfLine();
        return;
      }
      if (command.shape === 'words') {
        this.args({
          command,
          rustMagic: false,
          index: 0,
          afterLimit: false,
          expecting,
          afterCompare: false
        });
        return;
      }
      if (this.statementEnds()) {
        return;
      }
    }
  }

  /**
   * Skips the spaces before the next word; true when the statement ends
   * there: at the end of its line, or at a comment, which it colours.
   */
  private statementEnds(): boolean {
    this.skipInlineSpace();
    if (this.pos >= this.end || this.text[this.pos] === '\n') {
      return true;
    }
    if (this.text[this.pos] === '#') {
      this.comment();
      return true;
    }
    return false;
  }

  /** `echo` text: everything to the end of the line, as it is. */
  private restOfLine(): void {
    if (this.pos < this.end && isInlineSpace(this.text[this.pos])) {
      this.pos++;
    }
    const end = this.lineEnd();
    this.push(Kind.Text, this.pos, end);
    this.pos = end;
  }

  /** The argument words up to the end of the statement's (last) line. */
  private args(state: IArgs): void {
    for (;;) {
      if (this.statementEnds()) {
        return;
      }
      const from = this.pos;
      this.word();
      this.argument(state, from, this.pos);
    }
  }

  /** Colours one argument word by where it stands. */
  private argument(state: IArgs, from: number, to: number): void {
    const text = this.text.slice(from, to);
    const lower = text.toLowerCase();
    const command = state.command;
    if (state.expecting && !state.afterCompare && COMPARISONS.has(text)) {
      // `expect LINE OP VALUE`
      state.afterCompare = true;
      this.push(Kind.CompareOp, from, to);
      return;
    }
    let role: Role | 'option' | 'other';
    if (state.afterCompare) {
      role = 'value';
    } else if (state.afterLimit) {
      role = 'number';
      state.afterLimit = false;
    } else if (state.rustMagic) {
      role = 'option';
    } else if (
      command?.options &&
      state.index >= command.required &&
      (lower === 'limit' || lower === 'rev')
    ) {
      role = 'option';
      state.afterLimit = lower === 'limit';
    } else if (command && state.index < command.params.length) {
      role = command.params[state.index];
    } else {
      role = 'other';
    }
    state.index++;
    this.rangeWord(from, to, role);
  }

  /** A word that may be a range `a..b` / `a..=b`: each bound coloured alone. */
  private rangeWord(from: number, to: number, role: Role | 'option' | 'other'): void {
    const form = formAt(this.text, from);
    let searchFrom = from;
    const quote = quoteOf(form);
    if (quote) {
      const close = this.closingQuote(from + openerLength(form), to, quote);
      if (close < 0) {
        this.part(from, to, role);
        return;
      }
      searchFrom = close + 1;
    }
    const dots = this.text.indexOf('..', searchFrom);
    if (dots < 0 || dots + 2 > to || role === 'option' || role === 'path') {
      this.part(from, to, role);
      return;
    }
    const dotsEnd = this.text[dots + 2] === '=' && dots + 3 <= to ? dots + 3 : dots + 2;
    this.part(from, dots, role);
    this.push(Kind.RangeOp, dots, dotsEnd);
    this.part(dotsEnd, to, role);
  }

  /** Where the quote closing a body that starts at `at` is, or -1. */
  private closingQuote(at: number, to: number, quote: string): number {
    for (let i = at; i < to; i++) {
      const c = this.text[i];
      if (c === '\\' && quote === '"') {
        i++;
      } else if (c === quote) {
        return i;
      }
    }
    return -1;
  }

  /** One word, or one bound of a range. */
  private part(from: number, to: number, role: Role | 'option' | 'other'): void {
    if (to <= from) {
      return;
    }
    const form = formAt(this.text, from);
    const quote = quoteOf(form);
    if (quote) {
      const close = this.closingQuote(from + openerLength(form), to, quote);
      const stringEnd = close < 0 ? to : close + 1;
      this.quoted(from, stringEnd, form);
      // Text glued to the closing quote is an error the kernel points at.
      this.push(Kind.Word, stringEnd, to);
      return;
    }
    if (form === 'hex') {
      this.push(Kind.Hex, from, to);
      return;
    }
    const text = this.text.slice(from, to);
    if (role === 'command') {
      const lower = text.toLowerCase();
      const named = this.table.get(lower) ?? this.table.get(`%${lower}`);
      const kind = !named
        ? Kind.Word
        : named.block
          ? Kind.Block
          : named.magic
            ? Kind.Magic
            : Kind.Command;
      this.push(kind, from, to);
      return;
    }
    if (NUMBER.test(text)) {
      this.push(Kind.Number, from, to);
      return;
    }
    switch (role) {
      case 'key':
        this.push(Kind.Key, from, to);
        break;
      case 'value':
        this.push(Kind.Value, from, to);
        break;
      case 'old-new':
        this.push(text === '-' ? Kind.Absent : Kind.Value, from, to);
        break;
      case 'path':
        this.push(Kind.Path, from, to);
        break;
      case 'option':
        this.push(Kind.Option, from, to);
        break;
      default:
        this.push(Kind.Word, from, to);
    }
  }

  /** A quoted word: the string, and its escapes inside it. */
  private quoted(from: number, to: number, form: Form): void {
    let escapes = 0;
    if (form !== 'single') {
      for (let i = from + openerLength(form); i < to; i++) {
        if (this.text[i] !== '\\') {
          continue;
        }
        ESCAPE.lastIndex = i;
        const match = ESCAPE.exec(this.text);
        if (match && i + match[0].length <= to) {
          this.push(Kind.Escape, i, i + match[0].length);
          escapes++;
        }
        i++;
      }
    }
    // Pushed after its escapes: a node follows its children.
    this.push(Kind.String, from, to, escapes);
  }

  /**
   * Moves over one word as the kernel's scanner does: a quoted section if
   * one opens here, then anything up to whitespace, where a `..`/`..=`
   * followed by a quote takes in the whole quoted bound, spaces and all.
   */
  private word(): void {
    let terminated = this.quotedSection(formAt(this.text, this.pos));
    while (terminated && this.pos < this.end && !isSpace(this.text[this.pos])) {
      const dots = this.text.startsWith('..=', this.pos)
        ? 3
        : this.text.startsWith('..', this.pos)
          ? 2
          : 0;
      const bound = dots ? formAt(this.text, this.pos + dots) : 'bare';
      if (dots && quoteOf(bound)) {
        this.pos += dots;
        terminated = this.quotedSection(bound);
      } else {
        this.pos++;
      }
    }
  }

  /** Moves over a quoted section starting here; false if it never closes. */
  private quotedSection(form: Form): boolean {
    const quote = quoteOf(form);
    if (!quote) {
      return true;
    }
    this.pos += openerLength(form);
    while (this.pos < this.end) {
      const c = this.text[this.pos++];
      if (c === '\\' && quote === '"') {
        this.pos = Math.min(this.pos + 1, this.end);
      } else if (c === quote) {
        return true;
      }
    }
    return false;
  }
}

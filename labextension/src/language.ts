/**
 * The sled-kv language for CodeMirror 6: a parser that turns the scanner's
 * pieces into a syntax tree whose node types carry highlighting tags, and,
 * in a `%%rust` cell, hands the lines below the marker to the Rust parser.
 */
import {
  defineLanguageFacet,
  indentNodeProp,
  Language,
  LanguageSupport,
  languageDataProp,
  TreeIndentContext
} from '@codemirror/language';
import {
  Input,
  NodeSet,
  NodeType,
  Parser,
  parseMixed,
  ParseWrapper,
  PartialParse,
  Tree,
  TreeFragment
} from '@lezer/common';
import { styleTags, tags as t } from '@lezer/highlight';

import { Kind, Scanner } from './scanner';
import { commandTable } from './table';

/** The kernel's commands, from commands.json. */
const table = commandTable();

/**
 * Language data: `#` comments (so Ctrl+/ comments lines out), and typing
 * `end` re-indents its line (see `indent`).
 */
const data = defineLanguageFacet({
  commentTokens: { line: '#' },
  indentOnInput: /^\s*end$/i
});

/** Leading whitespace as columns. */
function columns(text: string, tabSize: number): number {
  let n = 0;
  for (const c of /^\s*/.exec(text)![0]) {
    n = c === '\t' ? n + tabSize - (n % tabSize) : n + 1;
  }
  return n;
}

/**
 * Where a new or re-indented line starts: as indented as the line above,
 * one unit more under `batch`/`transaction`, one unit less for `end`. In a
 * `%%rust` cell, Rust's own rules apply inside blocks, and otherwise the
 * line keeps the indentation of the one above (null: no opinion).
 */
function indent(cx: TreeIndentContext): number | null {
  if (cx.node.getChild(Kind[Kind.RustCode])) {
    return null;
  }
  const doc = cx.state.doc;
  // The nearest non-blank line above the one being indented. When a line
  // break is being inserted at pos, that starts with the text before pos.
  let above: { text: string } | null =
    cx.simulatedBreak === cx.pos ? cx.lineAt(cx.pos, -1) : null;
  for (let n = doc.lineAt(cx.pos).number - 1; (!above || !above.text.trim()) && n >= 1; n--) {
    above = doc.line(n);
  }
  if (!above || !above.text.trim()) {
    return 0;
  }
  const word = (text: string) => text.trim().split(/\s+/, 1)[0].toLowerCase();
  const opener = table.get(word(above.text));
  const closer = table.get(word(cx.textAfter));
  let columnsAbove = columns(above.text, cx.state.tabSize);
  if (opener?.opens) {
    columnsAbove += cx.unit;
  }
  if (closer?.block && !closer.opens) {
    columnsAbove -= cx.unit;
  }
  return Math.max(0, columnsAbove);
}

/**
 * Which highlighting tag each piece gets. JupyterLab's theme colours these
 * tags (and so does any other CodeMirror theme); pieces inside a string
 * (escapes) keep the string's colour.
 */
const TAGS = styleTags({
  Command: t.keyword,
  Block: t.controlKeyword,
  Magic: t.meta,
  Key: t.propertyName,
  Value: t.string,
  Path: t.string,
  Number: t.number,
  Hex: t.special(t.string),
  'String/...': t.string,
  Escape: t.escape,
  RangeOp: t.operator,
  CompareOp: t.compareOperator,
  Option: t.atom,
  Absent: t.atom,
  Text: t.docString,
  Comment: t.lineComment
});

const kinds = Object.values(Kind).filter((k): k is Kind => typeof k === 'number');

const nodeSet = new NodeSet([
  NodeType.define({
    id: 0,
    name: 'Cell',
    top: true,
    props: [
      [languageDataProp, data],
      [indentNodeProp, indent]
    ]
  }),
  ...kinds.map(kind => NodeType.define({ id: kind, name: Kind[kind] }))
]).extend(TAGS);

/** How much text one `advance()` scans before giving the editor a turn. */
const CHUNK = 64 * 1024;

/** One parse of a cell (or of the ranges of a cell, when nested). */
class SledKvParse implements PartialParse {
  stoppedAt: number | null = null;
  private readonly start: number;
  private readonly scanner: Scanner;

  constructor(input: Input, ranges: readonly { from: number; to: number }[]) {
    this.start = ranges[0].from;
    const end = ranges[ranges.length - 1].to;
    this.scanner = new Scanner(input.read(this.start, end), table);
    this.scanner.rustCell();
  }

  get parsedPos(): number {
    return this.start + this.scanner.position;
  }

  advance(): Tree | null {
    this.scanner.statements(this.scanner.position + CHUNK);
    const stop = this.stoppedAt;
    if (this.scanner.done || (stop !== null && this.parsedPos >= stop)) {
      return this.finish();
    }
    return null;
  }

  stopAt(pos: number): void {
    this.stoppedAt = pos;
  }

  private finish(): Tree {
    const buffer: number[] = [];
    for (const { kind, from, to, children } of this.scanner.tokens) {
      // type, start, end, and 4 × the nodes it spans (itself and its children)
      buffer.push(kind, this.start + from, this.start + to, 4 * (children + 1));
    }
    return Tree.build({
      buffer,
      nodeSet,
      topID: 0,
      start: this.start,
      length: this.scanner.position
    });
  }
}

class SledKvParser extends Parser {
  constructor(private readonly wrap: ParseWrapper | null) {
    super();
  }

  createParse(
    input: Input,
    fragments: readonly TreeFragment[],
    ranges: readonly { from: number; to: number }[]
  ): PartialParse {
    const parse = new SledKvParse(input, ranges);
    return this.wrap ? this.wrap(parse, input, fragments, ranges) : parse;
  }
}

/**
 * Support for the sled-kv language. With `rust` (the editor's Rust
 * language), the lines after a `%%rust` marker are parsed and highlighted
 * as Rust; without it they stay plain.
 */
export function sledKv(rust: Language | null = null): LanguageSupport {
  const wrap = rust
    ? parseMixed(node => (node.type.id === Kind.RustCode ? { parser: rust.parser } : null))
    : null;
  const language = new Language(data, new SledKvParser(wrap), [], 'sled-kv');
  return new LanguageSupport(language);
}

/**
 * The kernel's command table, as the highlighter sees it.
 *
 * `commands.json` maps every command name and alias to the syntax line that
 * `%help NAME` prints (`scan_prefix PREFIX [limit N] [rev]`); it is written
 * from a running kernel by `labextension/commands.py`, and a test fails when
 * the two disagree. Everything the highlighter knows about a command comes
 * from that line: what each argument is, whether the rest of the line is
 * verbatim text or another command, and whether `limit`/`rev` are options.
 */
import commands from './commands.json';

/** What an argument slot holds, which decides how a bare word there looks. */
export type Role =
  | 'key' // KEY, PREFIX, A..B, a tree NAME
  | 'value' // VALUE
  | 'old-new' // OLD and NEW of compare_and_swap, where `-` means absent
  | 'number' // N, SECONDS
  | 'path' // PATH, FILE
  | 'command'; // COMMAND (the topic of `%help`)

/** How a command takes the rest of its line. */
export type Shape =
  | 'words' // argument words
  | 'text' // the rest of the line verbatim (`echo`, `warn`, `abort`)
  | 'line'; // the rest of the line is another command (`%time`, `expect`)

export interface ICommand {
  /** A magic: its name starts with `%`. */
  readonly magic: boolean;
  /** Opens or closes a `batch`/`transaction` block. */
  readonly block: boolean;
  /** Opens one (`batch`, `transaction`); the other block word closes it. */
  readonly opens: boolean;
  readonly shape: Shape;
  /** The positional arguments, required ones first. */
  readonly params: readonly Role[];
  /** How many of `params` are required. */
  readonly required: number;
  /** Takes the options `limit N` and `rev` after its arguments. */
  readonly options: boolean;
}

const PLACEHOLDERS: { readonly [placeholder: string]: Role } = {
  KEY: 'key',
  PREFIX: 'key',
  'A..B': 'key',
  NAME: 'key',
  VALUE: 'value',
  OLD: 'old-new',
  NEW: 'old-new',
  N: 'number',
  SECONDS: 'number',
  PATH: 'path',
  FILE: 'path',
  COMMAND: 'command'
};

const OPTIONS = '[limit N] [rev]';

/** Reads one syntax line (`incr KEY [N]`, `batch … end`, `%time LINE`). */
function describe(syntax: string, closers: ReadonlySet<string>): ICommand {
  const name = syntax.split(' ', 1)[0];
  let rest = syntax.slice(name.length).trim();
  const options = rest.endsWith(OPTIONS);
  if (options) {
    rest = rest.slice(0, -OPTIONS.length).trim();
  }
  const words = rest ? rest.split(/\s+/) : [];
  const opensBlock = words[0] === '…';
  let shape: Shape = 'words';
  if (words.length === 1 && /^\[?TEXT\]?$/.test(words[0])) {
    shape = 'text';
  } else if (words.length === 1 && words[0] === 'LINE') {
    shape = 'line';
  }
  const params: Role[] = [];
  let required = 0;
  if (shape === 'words' && !opensBlock) {
    for (const word of words) {
      const optional = word.startsWith('[') && word.endsWith(']');
      const placeholder = optional ? word.slice(1, -1) : word;
      params.push(PLACEHOLDERS[placeholder] ?? 'value');
      if (!optional) {
        required += 1;
      }
    }
  }
  return {
    magic: name.startsWith('%'),
    block: opensBlock || closers.has(name),
    opens: opensBlock,
    shape,
    params,
    required,
    options
  };
}

/**
 * Every command name and alias, lower case, with what it takes. Aliases
 * share their command's syntax line (`scan` reads `scan_prefix PREFIX …`).
 */
export function commandTable(
  syntax: { readonly [name: string]: string } = commands.syntax
): ReadonlyMap<string, ICommand> {
  // The word that closes a block is the last one of a block's syntax.
  const closers = new Set<string>();
  for (const line of Object.values(syntax)) {
    const match = /…\s+(\S+)$/.exec(line);
    if (match) {
      closers.add(match[1]);
    }
  }
  const table = new Map<string, ICommand>();
  for (const [name, line] of Object.entries(syntax)) {
    table.set(name.toLowerCase(), describe(line, closers));
  }
  return table;
}

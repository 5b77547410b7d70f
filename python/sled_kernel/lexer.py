"""Pygments lexer for the sled-kv cell language of sled-kernel (`sled_kernel.lexer`).

A cell is lines; the first word of a line is a command (or a `%magic`, or a
`%%rust` cell marker), the rest are keys and values written as bare words,
"double-quoted strings with Rust escapes", 'literal strings', b"byte strings"
or 0xhex. `#` starts a comment. The lexer needs no list of commands, so it
never falls behind the kernel.

A cell whose first line that is not blank is `%%rust` (in any case, alone on
its line, as the kernel reads it) is Rust from the next line on: that part
goes to Pygments' own Rust lexer, so nbconvert and the docs site colour
`%%rust` cells as Rust.
"""

from pygments.lexer import RegexLexer, bygroups, include, using
from pygments.lexers.rust import RustLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Text, Whitespace

__all__ = ["SledKvLexer"]


class SledKvLexer(RegexLexer):
    name = "sled-kv"
    aliases = ["sled-kv", "sledkv"]
    filenames = ["*.sledkv"]
    mimetypes = ["text/x-sled-kv"]

    tokens = {
        "root": [
            # Only at the very start of the cell (\A), as the kernel decides.
            (
                r"\A(\s*)((?i:%%rust))([ \t]*(?:\n|\Z))([\s\S]*)",
                bygroups(Whitespace, Keyword.Namespace, Whitespace, using(RustLexer)),
            ),
            (r"[ \t]*\n", Whitespace),
            (r"([ \t]*)(#.*\n?)", bygroups(Whitespace, Comment.Single)),
            (r"([ \t]*)(%%[A-Za-z_]\w*)", bygroups(Whitespace, Keyword.Namespace), "args"),
            (r"([ \t]*)(%[A-Za-z_]\w*)", bygroups(Whitespace, Name.Builtin), "args"),
            (r"([ \t]*)(echo|warn)\b(.*\n?)", bygroups(Whitespace, Keyword, String.Doc)),
            (r"([ \t]*)([A-Za-z_]\w*)", bygroups(Whitespace, Keyword), "args"),
            (r"[^\n]+\n?", Text),
        ],
        "args": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t]+", Whitespace),
            (r"#.*", Comment.Single),
            include("values"),
        ],
        "values": [
            (r'b"', String.Affix, "bytes"),
            (r'"', String.Double, "double"),
            (r"'[^'\n]*'", String.Single),
            (r"'[^'\n]*", String.Single),  # unclosed: the kernel reports it
            (r"0x[0-9A-Fa-f]*\b", Number.Hex),
            (r"-?\d+(\.\d+)?\b(?![^\s\"'])", Number),
            (r"\.\.=?|==|!=", Operator),
            # expect's order comparisons, as whole words (`<missing>` is a value)
            (r"(<=|>=|<|>)(?=[ \t]|$|\n)", Operator),
            (r"(limit|rev)(?=[ \t]|$|\n)", Keyword.Pseudo),
            (r"[^\s\"'#]+?(?=\.\.|\s|$|#)", Name.Variable),
            (r"[^\s\"'#]+", Name.Variable),
        ],
        "double": [
            (r'\\(x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]{1,6}\}|[nrt0\\"\'])', String.Escape),
            (r'"', String.Double, "#pop"),
            (r'[^"\\]+', String.Double),
            (r"\\", String.Double),
        ],
        "bytes": [
            (r'\\(x[0-9A-Fa-f]{2}|[nrt0\\"\'])', String.Escape),
            (r'"', String.Affix, "#pop"),
            (r'[^"\\]+', String),
            (r"\\", String),
        ],
    }

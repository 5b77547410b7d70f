"""Pygments lexer for the sled-kv cell language of sled-kernel (`sled_kernel.lexer`).

A cell is lines; the first word of a line is a command (or a `%magic`, or a
`%%rust` cell marker), the rest are keys and values written as bare words,
"double-quoted strings with Rust escapes", 'literal strings', b"byte strings"
or 0xhex. `#` starts a comment. The lexer needs no list of commands, so it
never falls behind the kernel.
"""

from pygments.lexer import RegexLexer, bygroups, include
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Text, Whitespace

__all__ = ["SledKvLexer"]


class SledKvLexer(RegexLexer):
    name = "sled-kv"
    aliases = ["sled-kv", "sledkv"]
    filenames = ["*.sledkv"]
    mimetypes = ["text/x-sled-kv"]

    tokens = {
        "root": [
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

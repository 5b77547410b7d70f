//! `%help`, `%help COMMAND`, `%lsmagic` and Shift+Tab on a command: all
//! written from the command table, in plain text and Markdown.

use serde_json::Value;

use crate::cell::MimeBundle;
use crate::interpreter::language::command::{CommandSpec, Group, COMMANDS};

const WORDS: &str = "Keys and values are words: bare (todo:001), \"double quoted\" with Rust escapes (\\n \\t \\x00 \\u{e9}), 'single quoted' taken literally, b\"byte string\", or 0x00ff hex.";
const LINES: &str = "One command per line; a # that starts a word begins a comment. A read on a cell's last line becomes its Out[n].";

fn bundle(plain: String, markdown: String) -> MimeBundle {
    let mut bundle = MimeBundle::new();
    bundle.insert("text/plain".into(), Value::String(plain));
    bundle.insert("text/markdown".into(), Value::String(markdown));
    bundle
}

/// `get` or `insert (put, set)`.
fn name_and_aliases(spec: &CommandSpec) -> String {
    if spec.aliases.is_empty() {
        spec.name.to_string()
    } else {
        format!("{} ({})", spec.name, spec.aliases.join(", "))
    }
}

/// Every command, grouped, one line each.
pub(crate) fn overview() -> MimeBundle {
    let width = COMMANDS
        .iter()
        .map(|c| name_and_aliases(c).chars().count())
        .max()
        .unwrap_or(0);
    let mut plain = String::from(
        "sled KV: each command is named after the sled method it calls (aliases in brackets).\n\
         %help COMMAND shows its syntax, examples and the Rust it stands for; so does Shift+Tab on it.\n",
    );
    let mut markdown = String::from(
        "**sled KV**: each command is named after the sled method it calls (aliases in brackets). \
         `%help COMMAND` shows its syntax, examples and the Rust it stands for; so does Shift+Tab on it.\n",
    );
    for group in Group::ALL {
        plain.push_str(&format!("\n{}\n", group.title()));
        markdown.push_str(&format!(
            "\n**{}**\n\n| command | what it does |\n|---|---|\n",
            group.title()
        ));
        for spec in COMMANDS.iter().filter(|c| c.group == group) {
            let names = name_and_aliases(spec);
            plain.push_str(&format!("  {names:<width$}  {}\n", spec.summary));
            markdown.push_str(&format!("| `{names}` | {} |\n", table_cell(spec.summary)));
        }
    }
    plain.push_str(&format!("\n{WORDS}\n{LINES}"));
    markdown.push_str(&format!("\n{}\n\n{}", table_cell(WORDS), LINES));
    bundle(plain, markdown)
}

/// The magics only, for `%lsmagic`.
pub(crate) fn magics() -> MimeBundle {
    let magics: Vec<&CommandSpec> = COMMANDS.iter().filter(|c| c.is_magic()).collect();
    let width = magics
        .iter()
        .map(|c| c.syntax().chars().count())
        .max()
        .unwrap_or(0);
    let mut plain = String::from("Magics act on the session rather than on keys:\n");
    let mut markdown = String::from(
        "Magics act on the session rather than on keys:\n\n| magic | what it does |\n|---|---|\n",
    );
    for spec in magics {
        let syntax = spec.syntax();
        plain.push_str(&format!("  {syntax:<width$}  {}\n", spec.summary));
        markdown.push_str(&format!("| `{syntax}` | {} |\n", table_cell(spec.summary)));
    }
    plain.push_str("%help MAGIC says more about one.");
    markdown.push_str("\n`%help MAGIC` says more about one.");
    bundle(plain, markdown)
}

/// Where a command may stand, when that is not simply "anywhere".
fn placement(spec: &CommandSpec) -> Option<&'static str> {
    let a = spec.allowed;
    match (a.top, a.batch, a.transaction) {
        (true, true, true) => Some("also inside `batch … end` and `transaction … end`"),
        (true, false, true) => Some("also inside `transaction … end`"),
        (false, true, true) => Some("only inside `batch … end` or `transaction … end`"),
        (false, false, true) => Some("only inside `transaction … end`"),
        _ => None,
    }
}

/// One command in full: syntax, summary, details, examples, aliases, the
/// sled method. `more` adds what kind of command it is (Shift+Tab twice).
pub(crate) fn command_detail(spec: &CommandSpec, more: bool) -> MimeBundle {
    let aliases = if spec.aliases.is_empty() {
        "none".to_string()
    } else {
        spec.aliases.join(", ")
    };
    let mut plain = format!("{}\n{}\n", spec.syntax(), spec.summary);
    let mut markdown = format!("**{}**\n\n{}\n", code_span(&spec.syntax()), spec.summary);
    if !spec.details.is_empty() {
        plain.push_str(&format!("{}\n", spec.details));
        markdown.push_str(&format!("\n{}\n", spec.details));
    }
    if let Some(place) = placement(spec) {
        plain.push_str(&format!("Allowed {place}.\n"));
        markdown.push_str(&format!("\nAllowed {place}.\n"));
    }
    plain.push_str("examples:\n");
    markdown.push_str(&format!("\n{}\n", code_block(&spec.examples.join("\n"))));
    for example in spec.examples {
        for line in example.lines() {
            plain.push_str(&format!("  {line}\n"));
        }
    }
    plain.push_str(&format!(
        "aliases: {aliases}\nin Rust: {}\ngroup: {}",
        spec.maps_to,
        spec.group.title()
    ));
    markdown.push_str(&format!(
        "\n- aliases: {aliases}\n- in Rust: {}\n- group: {}",
        code_span(spec.maps_to),
        spec.group.title()
    ));
    if more {
        plain.push_str(&format!("\nkind: {}", spec.kind.describe()));
        markdown.push_str(&format!("\n- kind: {}", spec.kind.describe()));
    }
    bundle(plain, markdown)
}

/// `%help COMMAND`.
pub(crate) fn command(spec: &CommandSpec) -> MimeBundle {
    command_detail(spec, true)
}

/// Text for a Markdown table cell: pipes escaped, on one line.
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Markdown inline code that survives backticks in the text.
pub(crate) fn code_span(text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced Markdown code block that survives backticks in the text.
pub(crate) fn code_block(text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    format!("{fence}text\n{text}\n{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::language::command::lookup;

    fn plain(b: &MimeBundle) -> &str {
        b["text/plain"].as_str().unwrap_or_default()
    }

    fn markdown(b: &MimeBundle) -> &str {
        b["text/markdown"].as_str().unwrap_or_default()
    }

    #[test]
    fn the_overview_lists_every_command_in_its_group() {
        let b = overview();
        let text = plain(&b);
        let mut last_group_at = 0;
        for group in Group::ALL {
            let at = text
                .find(&format!("\n{}\n", group.title()))
                .unwrap_or_else(|| panic!("{}", group.title()));
            assert!(at >= last_group_at, "groups in order");
            last_group_at = at;
        }
        for spec in COMMANDS {
            assert!(
                text.contains(&format!("  {}", name_and_aliases(spec))),
                "{}",
                spec.name
            );
            assert!(text.contains(spec.summary), "{}", spec.name);
            assert!(markdown(&b).contains(&format!("`{}`", name_and_aliases(spec))));
        }
        assert!(text.contains("insert (put, set)"));
        assert!(text.contains("b\"byte string\""));
        let reads = text.find("\nreads\n").unwrap();
        let writes = text.find("\nwrites\n").unwrap();
        let get = text.find("  get ").unwrap();
        assert!(reads < get && get < writes, "get is listed under reads");
    }

    #[test]
    fn lsmagic_lists_only_magics() {
        let b = magics();
        let text = plain(&b);
        for spec in COMMANDS {
            assert_eq!(
                text.contains(&format!("  {}", spec.syntax())),
                spec.is_magic(),
                "{}",
                spec.name
            );
        }
        assert!(markdown(&b).contains("| `%open PATH` |"));
    }

    #[test]
    fn one_command_in_full() {
        let b = command(lookup("scan").unwrap());
        let text = plain(&b);
        assert!(
            text.starts_with("scan_prefix PREFIX [limit N] [rev]\nEvery pair"),
            "{text}"
        );
        assert!(
            text.contains("examples:\n  scan_prefix todo:\n  scan todo: limit 2\n"),
            "{text}"
        );
        assert!(text.contains("aliases: scan\n"));
        assert!(text.contains("in Rust: sled::Tree::scan_prefix(&self, prefix) -> sled::Iter"));
        assert!(text.contains("group: reads"));
        let md = markdown(&b);
        assert!(
            md.starts_with("**`scan_prefix PREFIX [limit N] [rev]`**"),
            "{md}"
        );
        assert!(md.contains("```text\nscan_prefix todo:\n"), "{md}");

        let text = plain(&command(lookup("insert").unwrap())).to_string();
        assert!(text.contains("Allowed also inside `batch … end` and `transaction … end`."));
        let text = plain(&command(lookup("abort").unwrap())).to_string();
        assert!(text.contains("Allowed only inside `transaction … end`."));
        let text = plain(&command(lookup("batch").unwrap())).to_string();
        assert!(
            text.contains("examples:\n  batch\n    insert a 1\n"),
            "{text}"
        );
        let short = plain(&command_detail(lookup("get").unwrap(), false)).to_string();
        assert!(!short.contains("kind:"));
    }

    #[test]
    fn markdown_code_survives_backticks() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_block("```"), "````text\n```\n````");
        assert_eq!(table_cell("a|b\nc"), "a\\|b c");
    }
}

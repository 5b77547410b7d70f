//! evcxr's errors as Jupyter errors: what went wrong, where in the cell,
//! and what to do about it. Line numbers count the cell's own lines, the
//! `%%rust` line included, so they match what the notebook shows.

use super::RustCode;
use crate::cell::CellError;
use evcxr::{CompilationError, Error};

/// Variables are what a restart of evcxr's process loses; the rest is
/// recompiled into the new process.
pub(super) const WHAT_SURVIVES: &str = "Variables from earlier Rust cells were lost; functions, types, `:dep` lines and DB_PATH remain. Run the cells that set the variables again.";

/// `lead`: how many lines evcxr was given before the cell's (the setup
/// compiled with a context's first cell), which its line numbers count.
pub(super) fn from_evcxr(error: Error, code: &RustCode<'_>, lead: usize) -> CellError {
    match error {
        Error::CompilationErrors(errors) if !errors.is_empty() => {
            compile_errors(&errors, code, lead)
        }
        Error::SubprocessTerminated(message) => {
            let last = message.lines().last().unwrap_or("it exited").to_string();
            let mut traceback = vec![format!(
                "The process running Rust cells stopped while running this cell: {last}"
            )];
            traceback.extend(message.lines().map(str::to_string));
            traceback.push(format!("A fresh process has been started. {WHAT_SURVIVES}"));
            CellError {
                ename: "RustProcessDied".into(),
                evalue: format!(
                    "the process running Rust cells stopped ({last}); variables were lost"
                ),
                traceback,
            }
        }
        other => {
            let text = other.to_string();
            let first = text.lines().next().unwrap_or("evcxr failed").to_string();
            CellError {
                ename: "RustError".into(),
                evalue: first,
                traceback: text.lines().map(str::to_string).collect(),
            }
        }
    }
}

/// Whether every error points at a line after the first `lead` (none of
/// them at the setup given to evcxr before the cell, nor nowhere).
pub(super) fn all_after(errors: &[CompilationError], lead: usize) -> bool {
    !errors.is_empty()
        && errors.iter().all(|error| {
            let spans: Vec<_> = error
                .spanned_messages()
                .iter()
                .filter_map(|m| m.span)
                .collect();
            !spans.is_empty() && spans.iter().all(|span| span.start_line > lead)
        })
}

/// `error[E0308]: mismatched types`, the cell line with a caret under the
/// span and the compiler's label, then its help.
fn compile_errors(errors: &[CompilationError], code: &RustCode<'_>, lead: usize) -> CellError {
    let lines: Vec<&str> = code.body.lines().collect();
    let mut traceback = Vec::new();
    for error in errors {
        let heading = match error.code() {
            Some(number) => format!("{}[{number}]: {}", error.level(), error.message()),
            None => format!("{}: {}", error.level(), error.message()),
        };
        traceback.push(heading);
        let mut located = false;
        for spanned in error.spanned_messages() {
            let Some(span) = spanned.span else { continue };
            let Some(text) = span
                .start_line
                .checked_sub(1 + lead)
                .and_then(|i| lines.get(i))
            else {
                continue;
            };
            located = true;
            let line = span.start_line - lead + code.first_line - 1;
            let number = line.to_string();
            let gutter = " ".repeat(number.len());
            traceback.push(format!(
                "{gutter}--> cell line {line}, column {}",
                span.start_column
            ));
            traceback.push(format!("{gutter} |"));
            traceback.push(format!("{number} | {text}"));
            let width = text.chars().count() + 1;
            let start = span.start_column.clamp(1, width);
            let end = if span.end_line == span.start_line {
                span.end_column.clamp(start + 1, width.max(start + 1))
            } else {
                width.max(start + 1)
            };
            let pad: String = text
                .chars()
                .take(start - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = "^".repeat(end - start);
            traceback.push(
                format!("{gutter} | {pad}{carets} {}", spanned.label)
                    .trim_end()
                    .to_string(),
            );
        }
        if !located && !error.is_from_user_code() {
            traceback.push(
                "(reported in the code evcxr wraps around the cell; look for the cause in the cell as a whole)"
                    .into(),
            );
        }
        for help in error.help() {
            let mut help_lines = help.lines();
            if let Some(first) = help_lines.next() {
                traceback.push(format!("help: {first}"));
            }
            traceback.extend(
                help_lines
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| format!("      {l}")),
            );
        }
        if let Some(hint) = error.evcxr_extra_hint() {
            traceback.push(format!("note: {hint}"));
        }
    }
    let first = &errors[0];
    let evalue = match first.spanned_messages().iter().find_map(|m| m.span) {
        Some(span) => format!(
            "{} (cell line {})",
            first.message(),
            span.start_line.saturating_sub(lead) + code.first_line - 1
        ),
        None => first.message(),
    };
    CellError {
        ename: "CompileError".into(),
        evalue,
        traceback,
    }
}

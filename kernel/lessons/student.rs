//! A lesson's student copy, made from the stored (teacher's) notebook the way
//! nbgrader 0.9's `generate_assignment` makes a release, for the parts a
//! student must not see:
//!
//! * `ClearSolutions`: in every cell, the lines from one containing
//!   `BEGIN SOLUTION` to the next containing `END SOLUTION` become the code
//!   stub (for the notebook's kernel language; text cells get `YOUR ANSWER
//!   HERE`), indented like the `BEGIN SOLUTION` line; an answer cell without
//!   such a region becomes the stub whole; a region outside an answer cell,
//!   a nested `BEGIN` or a missing `END` is an error. The notebook's
//!   `celltoolbar` setting goes.
//! * `ClearOutput`, but only for the answer cells, the check cells and the
//!   cells tagged `predict` ("predict, then run"): no outputs, no execution
//!   count, no `collapsed` or `scrolled` setting.
//!
//! Every other cell keeps its stored outputs, so a student can read a lesson
//! before running it. The copy is written as nbformat writes a notebook
//! ([`nbformat_bytes`]), which is how the lessons are stored: an untouched
//! cell keeps its bytes.

use super::nbjson::nbformat_bytes;
use anyhow::{bail, Context, Result};
use serde_json::Value;

/// nbgrader's `ClearSolutions.code_stub` for this kernel's language, as
/// `nbgrader_config.py` sets it for these lessons (`sled-kv` comments start
/// with `#`).
const CODE_STUBS: &[(&str, &str)] = &[("sled-kv", "# YOUR ANSWER HERE")];
/// nbgrader's `ClearSolutions.text_stub`, for a written answer.
const TEXT_STUB: &str = "YOUR ANSWER HERE";
const BEGIN: &str = "BEGIN SOLUTION";
const END: &str = "END SOLUTION";
/// The cell tag of a "predict, then run" cell.
const PREDICT: &str = "predict";
/// What nbconvert's `ClearOutputPreprocessor` drops with the outputs.
const OUTPUT_METADATA: &[&str] = &["collapsed", "scrolled"];

/// The student copy of a stored lesson notebook (its bytes as stored).
pub fn student_copy(teacher: &[u8]) -> Result<Vec<u8>> {
    let mut nb: Value = serde_json::from_slice(teacher).context("the lesson is not valid JSON")?;
    let language = nb
        .pointer("/metadata/kernelspec/language")
        .and_then(Value::as_str)
        .unwrap_or("python")
        .to_owned();
    let code_stub = CODE_STUBS
        .iter()
        .find(|(name, _)| *name == language)
        .map(|(_, stub)| *stub)
        .with_context(|| format!("no code stub for the kernel language {language:?}"))?;
    if let Some(metadata) = nb.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("celltoolbar");
    }
    let cells = nb
        .get_mut("cells")
        .and_then(Value::as_array_mut)
        .context("the lesson has no list of cells")?;
    for (index, cell) in cells.iter_mut().enumerate() {
        clear_cell(cell, code_stub).with_context(|| format!("cell {}", index + 1))?;
    }
    Ok(nbformat_bytes(&nb))
}

fn clear_cell(cell: &mut Value, code_stub: &str) -> Result<()> {
    let is_code = cell.get("cell_type").and_then(Value::as_str) == Some("code");
    let nbgrader =
        |key: &str| cell.pointer(&format!("/metadata/nbgrader/{key}")) == Some(&Value::Bool(true));
    let (answer, check) = (nbgrader("solution"), nbgrader("grade"));
    let predict = cell
        .pointer("/metadata/tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| tags.iter().any(|t| t == PREDICT));

    let stub = if is_code { code_stub } else { TEXT_STUB };
    let source = source_text(cell.get("source"));
    match clear_solution_region(&source, stub)? {
        Some(_) if !answer => bail!(
            "a `{BEGIN}` region in a cell that is not an answer cell (metadata.nbgrader.solution)"
        ),
        Some(cleared) => set_source(cell, &cleared),
        None if answer => set_source(cell, stub),
        None => {}
    }
    if is_code && (answer || check || predict) {
        let object = cell
            .as_object_mut()
            .context("a cell is not a JSON object")?;
        object.insert("outputs".into(), Value::Array(Vec::new()));
        object.insert("execution_count".into(), Value::Null);
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in OUTPUT_METADATA {
                metadata.remove(*key);
            }
        }
    }
    Ok(())
}

/// The source with its solution region replaced by `stub`, or `None` when
/// it has none: nbgrader's `_replace_solution_region`, line by line.
fn clear_solution_region(source: &str, stub: &str) -> Result<Option<String>> {
    let mut kept: Vec<String> = Vec::new();
    let (mut inside, mut replaced) = (false, false);
    for line in source.split('\n') {
        if line.contains(BEGIN) {
            if inside {
                bail!("a second `{BEGIN}` before the `{END}` of the first");
            }
            (inside, replaced) = (true, true);
            let indent = &line[..line.len() - line.trim_start().len()];
            kept.extend(
                stub.split('\n')
                    .map(|stub_line| format!("{indent}{stub_line}")),
            );
        } else if line.contains(END) {
            inside = false;
        } else if !inside {
            kept.push(line.to_owned());
        }
    }
    if inside {
        bail!("a `{BEGIN}` without its `{END}`");
    }
    Ok(replaced.then(|| kept.join("\n")))
}

/// A cell's source, stored as a list of lines or as one string.
fn source_text(source: Option<&Value>) -> String {
    match source {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Stores `text` as nbformat does: a list of lines, each with its `\n`
/// (Python's `splitlines(True)`, for sources whose only line break is `\n`).
fn set_source(cell: &mut Value, text: &str) {
    let lines = text
        .split_inclusive('\n')
        .map(|line| Value::String(line.to_owned()))
        .collect();
    if let Some(object) = cell.as_object_mut() {
        object.insert("source".into(), Value::Array(lines));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::LESSONS;
    use serde_json::json;

    const STUB: &str = "# YOUR ANSWER HERE";

    fn parse(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    fn flag(cell: &Value, key: &str) -> bool {
        cell.pointer(&format!("/metadata/nbgrader/{key}")) == Some(&Value::Bool(true))
    }

    fn tagged(cell: &Value, tag: &str) -> bool {
        cell.pointer("/metadata/tags")
            .and_then(Value::as_array)
            .is_some_and(|tags| tags.iter().any(|t| t == tag))
    }

    #[test]
    fn every_lesson_is_stored_as_nbformat_writes_it() {
        for lesson in LESSONS {
            let again = String::from_utf8(nbformat_bytes(&parse(lesson.notebook))).unwrap();
            let stored = std::str::from_utf8(lesson.notebook).unwrap();
            let differ = again
                .lines()
                .zip(stored.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b);
            assert_eq!(
                differ, None,
                "{}: the first line that differs (number, (written, stored))",
                lesson.name
            );
            assert_eq!(again, stored, "{}", lesson.name);
        }
    }

    #[test]
    fn student_copies_clear_answers_and_the_outputs_that_give_them_away() {
        let (mut answers, mut predictions) = (0, 0);
        for lesson in LESSONS {
            let copy = student_copy(lesson.notebook).unwrap();
            let text = String::from_utf8(copy.clone()).unwrap();
            assert!(
                !text.contains(BEGIN) && !text.contains(END),
                "{}: a solution marker is left",
                lesson.name
            );
            let (teacher, student) = (parse(lesson.notebook), parse(&copy));
            let (before, after) = (
                teacher["cells"].as_array().unwrap(),
                student["cells"].as_array().unwrap(),
            );
            assert_eq!(before.len(), after.len(), "{}", lesson.name);
            for (old, new) in before.iter().zip(after) {
                let cleared = flag(old, "solution") || flag(old, "grade") || tagged(old, PREDICT);
                if flag(old, "solution") {
                    answers += 1;
                    let source = source_text(new.get("source"));
                    assert!(source.contains(STUB), "{}: {source:?}", lesson.name);
                }
                if cleared {
                    predictions += usize::from(tagged(old, PREDICT));
                    assert_eq!(new["outputs"], json!([]), "{}", lesson.name);
                    assert_eq!(new["execution_count"], Value::Null, "{}", lesson.name);
                    assert_eq!(new["metadata"], old["metadata"], "{}", lesson.name);
                } else {
                    assert_eq!(new, old, "{}: a cell that should be as stored", lesson.name);
                }
            }
        }
        assert!(
            answers >= 9 && predictions >= 9,
            "{answers} answer cells, {predictions} predict cells"
        );
    }

    #[test]
    fn the_solution_region_becomes_the_stub_indented_like_its_first_line() {
        let source = "open_tree t\n  ### BEGIN SOLUTION\n  insert a 1\n  ### END SOLUTION\nkeys";
        assert_eq!(
            clear_solution_region(source, STUB).unwrap().unwrap(),
            "open_tree t\n  # YOUR ANSWER HERE\nkeys"
        );
        let rust = "%%rust\nlet db = sled::open(DB_PATH)?;\n// ### BEGIN SOLUTION\ndb.flush()?;\n// ### END SOLUTION\ndrop(db);";
        assert_eq!(
            clear_solution_region(rust, STUB).unwrap().unwrap(),
            "%%rust\nlet db = sled::open(DB_PATH)?;\n# YOUR ANSWER HERE\ndrop(db);"
        );
        assert_eq!(clear_solution_region("get a\nkeys", STUB).unwrap(), None);
        let nested = clear_solution_region(
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
            STUB,
        );
        assert!(format!("{:#}", nested.unwrap_err()).contains("a second `BEGIN SOLUTION`"));
        let open = clear_solution_region("### BEGIN SOLUTION\ninsert a 1", STUB);
        assert!(format!("{:#}", open.unwrap_err()).contains("without its `END SOLUTION`"));
    }

    fn notebook(cells: Value) -> Vec<u8> {
        let nb = json!({
            "cells": cells,
            "metadata": {"celltoolbar": "Create Assignment", "kernelspec": {"language": "sled-kv", "name": "sled"}},
            "nbformat": 4,
            "nbformat_minor": 5
        });
        nbformat_bytes(&nb)
    }

    fn code(source: &str, metadata: Value) -> Value {
        json!({
            "cell_type": "code",
            "execution_count": 3,
            "metadata": metadata,
            "outputs": [{"name": "stdout", "output_type": "stream", "text": ["done\n"]}],
            "source": source
        })
    }

    #[test]
    fn answer_cells_without_a_region_and_written_answers_become_stubs() {
        let answer = json!({"nbgrader": {"solution": true, "grade": false}, "scrolled": true, "collapsed": false});
        let written = json!({"cell_type": "markdown", "metadata": {"nbgrader": {"solution": true}}, "source": ["I think so."]});
        let copy =
            parse(&student_copy(&notebook(json!([code("insert a 1", answer), written]))).unwrap());
        assert_eq!(copy["cells"][0]["source"], json!([STUB]));
        assert_eq!(
            copy["cells"][0]["metadata"],
            json!({"nbgrader": {"solution": true, "grade": false}})
        );
        assert_eq!(copy["cells"][0]["outputs"], json!([]));
        assert_eq!(copy["cells"][0]["execution_count"], Value::Null);
        assert_eq!(copy["cells"][1]["source"], json!(["YOUR ANSWER HERE"]));
        assert_eq!(
            copy["metadata"],
            json!({"kernelspec": {"language": "sled-kv", "name": "sled"}})
        );
    }

    #[test]
    fn a_region_outside_an_answer_cell_or_an_unknown_language_is_refused() {
        let plain = code(
            "### BEGIN SOLUTION\ninsert a 1\n### END SOLUTION",
            json!({}),
        );
        let error = format!("{:#}", student_copy(&notebook(json!([plain]))).unwrap_err());
        assert!(
            error
                .contains("cell 1: a `BEGIN SOLUTION` region in a cell that is not an answer cell"),
            "{error}"
        );
        let python = nbformat_bytes(
            &json!({"cells": [], "metadata": {"kernelspec": {"language": "python"}}}),
        );
        let error = format!("{:#}", student_copy(&python).unwrap_err());
        assert!(
            error.contains("no code stub for the kernel language \"python\""),
            "{error}"
        );
    }
}

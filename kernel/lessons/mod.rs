//! `sled-kernel lessons [DIR]`: the lessons this binary carries, written
//! into a folder for a student (or, with `--with-answers`, for a teacher).
//!
//! The notebooks of `notebooks/` are built into the program (`build.rs`), so
//! the wheel needs no copy of the repository: `pip install` it, then
//! `sled-kernel lessons` and `jupyter lab sled-lessons`. A student copy has
//! the model answers and some outputs cleared ([`student_copy`]); a teacher's
//! copy is the notebook exactly as stored. A file already in DIR is never
//! replaced unless asked (`--force`): it may hold a student's work.

mod nbjson;
mod student;

pub use student::student_copy;

use anyhow::{Context, Result};
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// One lesson notebook, as `notebooks/` held it when this program was built.
pub struct Lesson {
    /// Its file name, such as `01-embedded-kv-with-sled.ipynb`.
    pub name: &'static str,
    /// The notebook's bytes, with the model answers and every stored output.
    pub notebook: &'static [u8],
}

/// Every lesson, in name order (`build.rs` lists `notebooks/*.ipynb`).
pub static LESSONS: &[Lesson] = include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// Which copies to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copies {
    /// Answers and the outputs that give answers away cleared.
    Student,
    /// The notebooks as stored, model answers and all.
    Teacher,
}

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was not there; now it is.
    Wrote,
    /// It was there with other contents, and `--force` replaced it.
    Replaced,
    /// It was there with the same contents.
    Unchanged,
    /// It was there with other contents, and is left as it was.
    Kept,
}

/// What [`write`] did, file by file.
#[derive(Debug)]
pub struct Report {
    pub dir: PathBuf,
    pub copies: Copies,
    pub files: Vec<(PathBuf, Outcome)>,
}

/// Writes every lesson into `dir` (created if missing), as `copies`. A file
/// that is already there with other contents is kept unless `force`.
pub fn write(dir: &Path, copies: Copies, force: bool) -> Result<Report> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "{} is there and is not a folder: give another folder, such as `sled-kernel lessons my-lessons`",
            dir.display()
        );
    }
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut files = Vec::with_capacity(LESSONS.len());
    for lesson in LESSONS {
        let bytes = match copies {
            Copies::Student => student_copy(lesson.notebook)
                .with_context(|| format!("cannot make the student copy of {}", lesson.name))?,
            Copies::Teacher => lesson.notebook.to_vec(),
        };
        let path = dir.join(lesson.name);
        let outcome = write_one(&path, &bytes, force)?;
        files.push((path, outcome));
    }
    Ok(Report {
        dir: dir.to_path_buf(),
        copies,
        files,
    })
}

fn write_one(path: &Path, bytes: &[u8], force: bool) -> Result<Outcome> {
    let outcome = match fs::read(path) {
        Ok(there) if there == bytes => return Ok(Outcome::Unchanged),
        Ok(_) if !force => return Ok(Outcome::Kept),
        Ok(_) => {
            fs::write(path, bytes).with_context(|| format!("cannot replace {}", path.display()))?;
            Outcome::Replaced
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // create_new: never replaces a file that appeared meanwhile.
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Outcome::Wrote
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(outcome)
}

impl Report {
    /// What to tell the user: a line per file, then what they are and how to
    /// open them.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .map(|(path, outcome)| {
                let path = path.display();
                match outcome {
                    Outcome::Wrote => format!("wrote {path}"),
                    Outcome::Replaced => format!("replaced {path}"),
                    Outcome::Unchanged => format!("unchanged {path} (already there)"),
                    Outcome::Kept => {
                        format!("kept {path}: it is already there with other contents")
                    }
                }
            })
            .collect();
        let dir = self.dir.display();
        let count = self.files.len();
        lines.push(match self.copies {
            Copies::Student => format!(
                "{count} lesson notebooks for students are in {dir}: the model answers of the exercises are \
                 replaced by `# YOUR ANSWER HERE`, and the outputs of the exercises and of the \
                 \"predict, then run\" cells are cleared."
            ),
            Copies::Teacher => format!(
                "{count} lesson notebooks for teachers are in {dir}, as stored: model answers and every output."
            ),
        });
        let kept = self
            .files
            .iter()
            .filter(|(_, o)| *o == Outcome::Kept)
            .count();
        if kept > 0 {
            let answers = if self.copies == Copies::Teacher {
                " --with-answers"
            } else {
                ""
            };
            lines.push(format!(
                "{kept} of them were kept as they were, since they may hold your work; \
                 `sled-kernel lessons{answers} --force {dir}` replaces them (their changes are lost)."
            ));
        }
        lines.push(format!("Open them with: jupyter lab {dir}"));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(report: &Report) -> Vec<Outcome> {
        report.files.iter().map(|(_, o)| *o).collect()
    }

    #[test]
    fn writes_every_lesson_then_leaves_them_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new").join("sled-lessons");
        let first = write(&dir, Copies::Student, false).unwrap();
        assert_eq!(written(&first), vec![Outcome::Wrote; LESSONS.len()]);
        for (lesson, (path, _)) in LESSONS.iter().zip(&first.files) {
            assert_eq!(path, &dir.join(lesson.name));
            assert_eq!(
                fs::read(path).unwrap(),
                student_copy(lesson.notebook).unwrap()
            );
        }
        let again = write(&dir, Copies::Student, false).unwrap();
        assert_eq!(written(&again), vec![Outcome::Unchanged; LESSONS.len()]);
        let lines = again.lines();
        assert!(
            lines
                .last()
                .unwrap()
                .ends_with(&format!("jupyter lab {}", dir.display())),
            "{lines:?}"
        );
    }

    #[test]
    fn a_changed_lesson_is_kept_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(dir, Copies::Student, false).unwrap();
        let worked_on = dir.join(LESSONS[1].name);
        fs::write(&worked_on, "a student's work").unwrap();

        // The teacher's copies are other bytes for every lesson with an
        // exercise: without --force none of those is touched.
        let kept = write(dir, Copies::Teacher, false).unwrap();
        assert_eq!(fs::read_to_string(&worked_on).unwrap(), "a student's work");
        assert_eq!(kept.files[1].1, Outcome::Kept);
        let said = kept.lines().join("\n");
        assert!(said.contains("since they may hold your work"), "{said}");
        assert!(
            said.contains(&format!("lessons --with-answers --force {}", dir.display())),
            "{said}"
        );

        let forced = write(dir, Copies::Teacher, true).unwrap();
        assert_eq!(forced.files[1].1, Outcome::Replaced);
        for lesson in LESSONS {
            assert_eq!(
                fs::read(dir.join(lesson.name)).unwrap(),
                lesson.notebook,
                "{}",
                lesson.name
            );
        }
        assert!(!forced.lines().join("\n").contains("were kept"));
    }

    #[test]
    fn a_file_where_the_folder_should_be_is_refused_and_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("sled-lessons");
        fs::write(&file, "notes").unwrap();
        let error = format!("{:#}", write(&file, Copies::Student, true).unwrap_err());
        assert!(error.contains("is there and is not a folder"), "{error}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "notes");
    }

    #[test]
    fn the_binary_carries_every_lesson_of_the_checkout() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".ipynb"))
            .collect();
        names.sort();
        let carried: Vec<&str> = LESSONS.iter().map(|l| l.name).collect();
        assert_eq!(carried, names);
        for lesson in LESSONS {
            assert_eq!(
                lesson.notebook,
                fs::read(dir.join(lesson.name)).unwrap(),
                "{}",
                lesson.name
            );
        }
    }
}

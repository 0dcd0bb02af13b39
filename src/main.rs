//! `bulletin`: parse the command line, resolve the configuration, run.

use std::process::ExitCode;

use anyhow::Context;
use bulletin::cli::{
    admin, client, login, model, Cli, Command, JobsCommand, ModelCommand, StoreCommand, TokenCommand, UserCommand,
};
use bulletin::config::{Config, ConfigLayer, LogFormat};
use clap::Parser;

/// The feed endpoint spent a tenth of its server time in glibc's malloc (perf:
/// `_int_malloc`, `malloc_consolidate`), allocating per database row and value
/// across threads; with mimalloc it served 2,280 requests/s against 1,693 at p99
/// 17.8 ms against 24.0 ms (benches/speed api, three runs each).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The media child has no async runtime and no logging: it speaks a line protocol.
    if let Command::Media { memory_mb, file_size_mb, require_sandbox } = cli.command {
        let limits = bulletin::media::ChildLimits { memory_mb, file_size_mb, require_sandbox };
        return bulletin::media::run_media_child(limits);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let file = Config::load_file(cli.config.as_deref())?;
    let resolve = |layer: &ConfigLayer| Config::resolve(layer.clone(), file.clone());
    let log_format = match &cli.command {
        Command::Serve(l) | Command::Migrate(l) | Command::Config(l) => resolve(l).log_format,
        Command::Worker { settings, .. } | Command::Reindex { settings, .. } => resolve(settings).log_format,
        _ => LogFormat::Text,
    };
    init_logging(log_format);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(layer) => bulletin::app::serve(resolve(&layer)).await,
            Command::Worker { settings, jobs } => bulletin::app::work(resolve(&settings), jobs).await,
            Command::Migrate(layer) => admin::migrate(&resolve(&layer)).await,
            Command::Reindex { settings, from_scratch } => admin::reindex(&resolve(&settings), from_scratch).await,
            Command::Config(layer) => {
                print!("{}", resolve(&layer).to_redacted_toml());
                Ok(())
            }
            Command::Model(ModelCommand::Install { from, output, weights, force }) => {
                tokio::task::spawn_blocking(move || model::install(from, output, weights, force)).await?
            }
            Command::Model(ModelCommand::Path) => {
                println!("{}", bulletin::config::default_model_path().display());
                Ok(())
            }
            Command::Jobs(JobsCommand::List { settings, state, limit }) => {
                admin::jobs_list(&resolve(&settings), state.as_deref(), limit).await
            }
            Command::Jobs(JobsCommand::Retry { settings, id }) => admin::jobs_retry(&resolve(&settings), id).await,
            Command::User(UserCommand::Add { settings, login, name, admin, password_stdin }) => {
                admin::user_add(&resolve(&settings), &login, name.as_deref(), admin, password_stdin).await
            }
            Command::User(UserCommand::Disable { settings, login }) => {
                admin::user_set_disabled(&resolve(&settings), &login, true).await
            }
            Command::User(UserCommand::Enable { settings, login }) => {
                admin::user_set_disabled(&resolve(&settings), &login, false).await
            }
            Command::Token(TokenCommand::Create { settings, login, name }) => {
                admin::token_create(&resolve(&settings), &login, &name).await
            }
            Command::Store(StoreCommand::List { settings, prefix }) => {
                admin::store_list(&resolve(&settings), &prefix).await
            }
            Command::Store(StoreCommand::Cat { settings, key }) => admin::store_cat(&resolve(&settings), &key).await,
            Command::Login { server, login, password_stdin } => login::login(&server, login, password_stdin).await,
            Command::Post { file, title, channel, ask, language, server, no_wait, token } => {
                let (server, token) = login::resolve(server, token);
                let post = client::Post {
                    file: &file,
                    title: &title,
                    channel: channel.as_deref(),
                    ask: &ask,
                    language: language.as_deref(),
                    wait: !no_wait,
                };
                client::post(&server, token.as_deref(), &post).await
            }
            Command::Search { query, server, token } => {
                let (server, token) = login::resolve(server, token);
                client::search(&server, token.as_deref(), &query).await
            }
            Command::Media { .. } => unreachable!("handled before the runtime starts"),
        }
    })
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BULLETIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

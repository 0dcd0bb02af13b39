//! `bulletin login URL`: sign in once with a password, keep an API token for
//! the command line in the user's config folder (mode 0600), and use it for
//! `post` and `search` against that server.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The server used when none is named and nobody logged in anywhere.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// `credentials.toml`: a token per server, and the server last logged in to.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    default_server: Option<String>,
    #[serde(default)]
    servers: BTreeMap<String, SavedServer>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedServer {
    token: String,
}

/// `$XDG_CONFIG_HOME/bulletin/credentials.toml`, else `~/.config/bulletin/credentials.toml`.
fn credentials_path() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").context("neither XDG_CONFIG_HOME nor HOME is set")?).join(".config")
        }
    };
    Ok(base.join("bulletin").join("credentials.toml"))
}

fn normalise(server: &str) -> String {
    server.trim().trim_end_matches('/').to_string()
}

fn read_saved() -> Saved {
    let Ok(path) = credentials_path() else { return Saved::default() };
    std::fs::read_to_string(path).ok().and_then(|text| toml::from_str(&text).ok()).unwrap_or_default()
}

/// Write the file readable by its owner only, created that way (no window
/// in which another user could read it).
fn write_saved(saved: &Saved) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = credentials_path()?;
    let dir = path.parent().context("credentials path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("toml.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(toml::to_string(saved)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The server and token a client command uses: flags and environment first,
/// then what `bulletin login` saved.
pub fn resolve(server: Option<String>, token: Option<String>) -> (String, Option<String>) {
    let saved = read_saved();
    let server = normalise(&server.or(saved.default_server.clone()).unwrap_or_else(|| DEFAULT_SERVER.to_string()));
    let token = token.or_else(|| saved.servers.get(&server).map(|s| s.token.clone()));
    (server, token)
}

/// A session cookie's `name=value` from a response's Set-Cookie headers.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn prompt(question: &str) -> anyhow::Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `bulletin login URL [--login NAME] [--password-stdin]`.
pub async fn login(server: &str, login: Option<String>, password_stdin: bool) -> anyhow::Result<()> {
    let server = normalise(server);
    let login = match login {
        Some(login) => login,
        None => prompt("login name: ")?,
    };
    let password = if password_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password("password: ")?
    };

    let http = reqwest::Client::new();
    let signed_in = http
        .post(format!("{server}/api/session"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .with_context(|| format!("cannot reach {server}"))?;
    let status = signed_in.status();
    let (session, csrf) = (cookie(&signed_in, "bulletin_session"), cookie(&signed_in, "bulletin_csrf"));
    let body: Value = signed_in.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("not signed in ({status}): {}", body["error"]["message"].as_str().unwrap_or_default());
    }
    let (Some(session), Some(csrf)) = (session, csrf) else { bail!("{server} did not open a session") };
    let csrf_token = csrf.split_once('=').map(|(_, v)| v.to_string()).unwrap_or_default();
    let cookies = format!("{session}; {csrf}");

    // A token of its own for this machine's command line, made with the session.
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let name = if host.is_empty() { "command line".to_string() } else { format!("command line on {host}") };
    let created = http
        .post(format!("{server}/api/me/tokens"))
        .header(reqwest::header::COOKIE, &cookies)
        .header("x-csrf-token", &csrf_token)
        .json(&json!({ "name": name }))
        .send()
        .await?;
    let status = created.status();
    let body: Value = created.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("cannot create a token ({status}): {}", body["error"]["message"].as_str().unwrap_or_default());
    }
    let token = body["token"].as_str().context("no token in the answer")?.to_string();
    // The session was only the way to the token: end it.
    let _ = http
        .delete(format!("{server}/api/session"))
        .header(reqwest::header::COOKIE, &cookies)
        .header("x-csrf-token", &csrf_token)
        .send()
        .await;

    let mut saved = read_saved();
    saved.servers.insert(server.clone(), SavedServer { token });
    saved.default_server = Some(server.clone());
    let path = write_saved(&saved)?;
    println!("logged in to {server} as {}; a token (\"{name}\") is saved in {}", login.trim(), path.display());
    Ok(())
}

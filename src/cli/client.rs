//! `bulletin post` and `bulletin search`: HTTP clients of a running server.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use tokio_util::io::ReaderStream;

/// An HTTP client that sends `token` with every request.
fn client(token: Option<&str>) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.trim()))
            .context("the API token has characters no token has")?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(reqwest::Client::builder().default_headers(headers).build()?)
}

/// The server's refusal as an error that says what to do about it.
fn refusal(status: reqwest::StatusCode, body: &Value, token: Option<&str>) -> anyhow::Error {
    let message = body["error"]["message"].as_str().unwrap_or_default();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        let hint = if token.is_some() {
            "the API token was refused (revoked, or its account disabled)"
        } else {
            "this server needs an API token: pass --token or set BULLETIN_TOKEN (an admin creates one with `bulletin token create LOGIN`)"
        };
        return anyhow::anyhow!("{hint}");
    }
    anyhow::anyhow!("rejected ({status}): {} — {message}", body["error"]["code"])
}

/// Ask who we are before sending anything big: a server that will refuse
/// the upload says so now, instead of cutting the upload off midway.
async fn check_signed_in(client: &reqwest::Client, server: &str, token: Option<&str>) -> anyhow::Result<()> {
    let response =
        client.get(format!("{server}/api/me")).send().await.with_context(|| format!("cannot reach {server}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let body: Value = response.json().await.unwrap_or(Value::Null);
        return Err(refusal(status, &body, token));
    }
    Ok(())
}

/// What `bulletin post` sends.
pub struct Post<'a> {
    pub file: &'a Path,
    pub title: &'a str,
    /// A channel's name or slug; the server's default (`General`) when `None`.
    pub channel: Option<&'a str>,
    /// Whom to ask to acknowledge it: login names or `everyone`.
    pub ask: &'a [String],
    /// The spoken language, if the poster declares it.
    pub language: Option<&'a str>,
    /// Wait until the update is ready.
    pub wait: bool,
}

pub async fn post(server: &str, token: Option<&str>, post: &Post<'_>) -> anyhow::Result<()> {
    let Post { file, title, channel, ask, language, wait } = *post;
    let server = server.trim_end_matches('/');
    let client = client(token)?;
    check_signed_in(&client, server, token).await?;
    let handle = tokio::fs::File::open(file).await.with_context(|| format!("cannot open {}", file.display()))?;
    let len = handle.metadata().await?.len();
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template("uploading {bar:40} {bytes}/{total_bytes} {bytes_per_sec}")?);
    let counted = {
        let bar = bar.clone();
        ReaderStream::new(handle).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                bar.inc(chunk.len() as u64);
            }
        })
    };
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("update").to_string();
    let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(counted), len).file_name(name);
    // Channel before file: the server can know where it goes before the bytes arrive.
    let mut form = reqwest::multipart::Form::new().text("title", title.to_string());
    if let Some(channel) = channel {
        form = form.text("channel", channel.to_string());
    }
    if !ask.is_empty() {
        form = form.text("acknowledge", ask.join(","));
    }
    if let Some(language) = language {
        form = form.text("language", language.to_string());
    }
    let form = form.part("file", part);
    let response =
        client.post(format!("{server}/api/updates")).multipart(form).send().await.context("upload failed")?;
    bar.finish_and_clear();
    let status = response.status();
    let body: Value = response.json().await.context("unreadable server response")?;
    if !status.is_success() {
        return Err(refusal(status, &body, token));
    }
    let id = body["id"].as_str().context("no id in response")?.to_string();
    println!("accepted {id}: {server}/updates/{id}");
    if !wait {
        return Ok(());
    }
    let spinner = ProgressBar::new_spinner();
    loop {
        let update: Value =
            client.get(format!("{server}/api/updates/{id}")).send().await?.error_for_status()?.json().await?;
        let stages = &update["stages"];
        spinner.set_message(format!(
            "transcode {} {}% · transcribe {} {}% · index {}",
            stages["transcode"]["state"].as_str().unwrap_or("?"),
            stages["transcode"]["progress"],
            stages["transcribe"]["state"].as_str().unwrap_or("?"),
            stages["transcribe"]["progress"],
            stages["index"]["state"].as_str().unwrap_or("?"),
        ));
        spinner.tick();
        match update["status"].as_str() {
            Some("ready") => {
                spinner.finish_and_clear();
                println!("ready: {server}/updates/{id}");
                return Ok(());
            }
            Some("failed") => {
                spinner.finish_and_clear();
                bail!("processing failed: {}", update["error"].as_str().unwrap_or("unknown error"));
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

pub async fn search(server: &str, token: Option<&str>, query: &str) -> anyhow::Result<()> {
    let server = server.trim_end_matches('/');
    let url = reqwest::Url::parse_with_params(&format!("{server}/api/search"), &[("q", query)])?;
    let response = client(token)?.get(url).send().await.context("search request failed")?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        return Err(refusal(status, &body, token).context("search failed"));
    }
    let hits = body["hits"].as_array().cloned().unwrap_or_default();
    if hits.is_empty() {
        println!("no matches");
    }
    for hit in hits {
        let id = hit["update_id"].as_str().unwrap_or_default();
        println!("{}  ({server}/updates/{id})", hit["title"].as_str().unwrap_or_default());
        for m in hit["matches"].as_array().into_iter().flatten() {
            let start = m["start_ms"].as_u64().unwrap_or(0);
            let snippet =
                m["snippet"].as_str().unwrap_or_default().replace("<mark>", "\x1b[1m").replace("</mark>", "\x1b[0m");
            println!(
                "  {:>2}:{:02}  {}   {server}/updates/{id}?t={}",
                start / 60_000,
                start / 1000 % 60,
                unescape(&snippet),
                start / 1000
            );
        }
    }
    Ok(())
}

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

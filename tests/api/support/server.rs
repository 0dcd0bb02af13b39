//! The real server binary, started on a free port with its own data folder.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::s3::S3Target;

pub struct TestServer {
    pub base: String,
    pub data_dir: PathBuf,
    /// The PostgreSQL URL (own schema) when the suite runs on PostgreSQL.
    pub database_url: Option<String>,
    /// Where media goes: `DATA_DIR/media`, or a bucket of its own when the suite runs on S3.
    pub storage: String,
    /// The S3 server behind `storage`, if any.
    pub s3: Option<S3Target>,
    child: Child,
    _temp: Option<tempfile::TempDir>,
}

pub fn bulletin_exe() -> &'static str {
    env!("CARGO_BIN_EXE_bulletin")
}

impl TestServer {
    /// Start `bulletin serve` on a new temporary data folder (and, when the
    /// suite runs on PostgreSQL, a new schema of its own; on S3, a new bucket).
    pub fn start() -> TestServer {
        Self::start_with(&[], &[])
    }

    pub fn start_with(args: &[&str], envs: &[(&str, &str)]) -> TestServer {
        Self::start_on(S3Target::from_env(), args, envs)
    }

    /// Start with media in a new bucket on `s3`, or in the data folder.
    pub fn start_on(s3: Option<S3Target>, args: &[&str], envs: &[(&str, &str)]) -> TestServer {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        let database_url = fresh_database_url();
        let storage = match &s3 {
            // Under a prefix too, so keys below the bucket's root are exercised.
            Some(target) => format!("s3://{}/media", target.create_bucket_blocking()),
            None => data_dir.join("media").display().to_string(),
        };
        let shared = shared_envs(&storage, s3.as_ref(), database_url.as_deref());
        let (child, base) = spawn_serve(&data_dir, args, &shared, envs);
        TestServer { base, data_dir, database_url, storage, s3, child, _temp: Some(temp) }
    }

    /// Kill this server (SIGKILL) and start another on the same data folder, database and store.
    pub fn kill_and_restart(mut self, args: &[&str], envs: &[(&str, &str)]) -> TestServer {
        self.kill();
        let (child, base) = spawn_serve(&self.data_dir, args, &self.shared_envs(), envs);
        self.child = child;
        self.base = base;
        self
    }

    /// What another `bulletin` process needs to share this server's database
    /// and media store (but not its data folder).
    pub fn shared_envs(&self) -> Vec<(String, String)> {
        let mut envs = shared_envs(&self.storage, self.s3.as_ref(), self.database_url.as_deref());
        if self.database_url.is_none() {
            // SQLite: the server's own database file, which lives in its data folder.
            let sqlite = format!("sqlite://{}", self.data_dir.join("bulletin.db").display());
            envs.push(("BULLETIN_DATABASE_URL".to_string(), sqlite));
        }
        envs
    }

    /// Every key in this server's media store, sorted (e.g. `updates/ID/video.mp4`),
    /// as `bulletin store list` prints them.
    pub async fn stored_keys(&self) -> Vec<String> {
        let listed = self.store_command(&["list"]).await;
        String::from_utf8(listed).expect("keys are text").lines().map(str::to_string).collect()
    }

    /// The bytes of one object in this server's media store (`bulletin store cat`).
    pub async fn stored_object(&self, key: &str) -> Vec<u8> {
        self.store_command(&["cat", key]).await
    }

    /// `bulletin store ARGS` on this server's store; its standard output.
    async fn store_command(&self, args: &[&str]) -> Vec<u8> {
        let output = tokio::process::Command::new(bulletin_exe())
            .arg("store")
            .args(args)
            .envs(self.shared_envs())
            .env("BULLETIN_DATA_DIR", &self.data_dir)
            .output()
            .await
            .expect("run bulletin store");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "bulletin store {args:?} failed: {stderr}");
        output.stdout
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shared_envs(storage: &str, s3: Option<&S3Target>, database_url: Option<&str>) -> Vec<(String, String)> {
    let mut envs = match s3 {
        Some(target) => target.process_envs(storage),
        None => vec![("BULLETIN_STORAGE".to_string(), storage.to_string())],
    };
    if let Some(url) = database_url {
        envs.push(("BULLETIN_DATABASE_URL".to_string(), url.to_string()));
    }
    envs
}

/// Start `bulletin serve` on `data_dir` and wait for its address.
fn spawn_serve(data_dir: &Path, args: &[&str], shared: &[(String, String)], envs: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(bulletin_exe());
    cmd.arg("serve").arg("--listen").arg("127.0.0.1:0").arg("--data-dir").arg(data_dir).args(args);
    cmd.env("BULLETIN_LOG", "info,tantivy=warn,sqlx=warn,tower_http=warn");
    cmd.envs(shared.iter().map(|(k, v)| (k, v)));
    cmd.envs(envs.iter().copied());
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start bulletin serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("bulletin listening on ") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).expect("server did not start listening");
    (child, base)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("client")
}

/// POST a file as an update; returns (status, body).
pub async fn post_update(server: &TestServer, title: &str, file: &Path) -> (u16, Value) {
    let bytes = std::fs::read(file).expect("read fixture");
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_string();
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
    let response = client().post(server.url("/api/updates")).multipart(form).send().await.expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = client().get(server.url(path)).send().await.expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Poll an update until it leaves `processing`; panics after `timeout`.
pub async fn wait_until_done(server: &TestServer, id: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = get_json(server, &format!("/api/updates/{id}")).await;
        assert_eq!(status, 200, "update {id} should exist: {body}");
        if body["status"] != "processing" {
            return body;
        }
        assert!(started.elapsed() < timeout, "update {id} still processing after {timeout:?}: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every file under `dir`, recursively (to prove nothing was left behind).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// With `BULLETIN_TEST_POSTGRES_URL` set (e.g. `postgres://postgres@127.0.0.1:5432/test`),
/// every server gets a fresh schema in that database, so tests stay independent.
pub fn fresh_database_url() -> Option<String> {
    let base = std::env::var("BULLETIN_TEST_POSTGRES_URL").ok()?;
    let schema = format!("bt_{:016x}", rand_u64());
    let status = Command::new("psql")
        .arg(&base)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", &format!("CREATE SCHEMA {schema}")])
        .status()
        .expect("run psql");
    assert!(status.success(), "cannot create schema {schema}");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{separator}options[search_path]={schema}"))
}

pub fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    hasher.finish()
}

/// Send the head of a request and part of its body, then read what the server says
/// while the rest has still not been sent.
pub async fn answer_before_the_last_byte(server: &TestServer, head: &str, body_part: &[u8]) -> String {
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body_part).await.unwrap();
    let mut reply = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut reply))
        .await
        .expect("the server waited for the whole upload before refusing it")
        .unwrap();
    String::from_utf8_lossy(&reply[..n]).to_string()
}

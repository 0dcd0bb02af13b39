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
    /// An API token of the admin every test server starts with ([`ADMIN_LOGIN`]).
    pub token: String,
    child: Child,
    _temp: Option<tempfile::TempDir>,
}

/// The admin every test server has, and their password.
pub const ADMIN_LOGIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "test admin password";

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
        let (mut server, _) = Self::start_bare(s3, args, envs, true);
        server.token = server.new_token(ADMIN_LOGIN);
        server
    }

    /// Start with nobody's account in the database (and no token); also
    /// returns the first-run setup link the server printed.
    pub fn start_without_accounts() -> (TestServer, String) {
        let (server, output) = Self::start_bare(S3Target::from_env(), &[], &[], false);
        let line = output.recv_timeout(Duration::from_secs(30)).expect("a line after the address");
        let link = line.strip_prefix("no accounts yet: create the first admin at ").expect("the setup link");
        (server, link.to_string())
    }

    /// Start a server, with [`ADMIN_LOGIN`] added before it starts if `with_admin`.
    fn start_bare(
        s3: Option<S3Target>,
        args: &[&str],
        envs: &[(&str, &str)],
        with_admin: bool,
    ) -> (TestServer, std::sync::mpsc::Receiver<String>) {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        let database_url = fresh_database_url();
        let storage = match &s3 {
            // Under a prefix too, so keys below the bucket's root are exercised.
            Some(target) => format!("s3://{}/media", target.create_bucket_blocking()),
            None => data_dir.join("media").display().to_string(),
        };
        let shared = shared_envs(&storage, s3.as_ref(), database_url.as_deref());
        if with_admin {
            std::fs::create_dir_all(&data_dir).expect("data folder");
            let args = ["user", "add", ADMIN_LOGIN, "--admin", "--password-stdin"];
            let added = run_bulletin(&process_envs(&shared, &data_dir, database_url.is_none()), &args, ADMIN_PASSWORD);
            assert!(added.status.success(), "cannot add the admin: {}", String::from_utf8_lossy(&added.stderr));
        }
        let (child, base, output) = spawn_serve(&data_dir, args, &shared, envs);
        let server =
            TestServer { base, data_dir, database_url, storage, s3, token: String::new(), child, _temp: Some(temp) };
        (server, output)
    }

    /// A new API token of `login`'s (`bulletin token create`).
    pub fn new_token(&self, login: &str) -> String {
        let token = self.command(&["token", "create", login, "--name", "tests"], "");
        assert!(token.status.success(), "cannot create a token: {}", String::from_utf8_lossy(&token.stderr));
        String::from_utf8(token.stdout).expect("a token is text").trim().to_string()
    }

    /// Run `bulletin ARGS` on this server's database and store, with `stdin` as its input.
    pub fn command(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut envs = self.shared_envs();
        envs.push(("BULLETIN_DATA_DIR".to_string(), self.data_dir.display().to_string()));
        run_bulletin(&envs, args, stdin)
    }

    /// An HTTP client signed in as the admin (it sends their API token).
    pub fn client(&self) -> reqwest::Client {
        signed_in_client(&self.token)
    }

    /// Kill this server (SIGKILL) and start another on the same data folder, database and store.
    pub fn kill_and_restart(mut self, args: &[&str], envs: &[(&str, &str)]) -> TestServer {
        self.kill();
        let (child, base, _) = spawn_serve(&self.data_dir, args, &self.shared_envs(), envs);
        self.child = child;
        self.base = base;
        self
    }

    /// What another `bulletin` process needs to share this server's database
    /// and media store (but not its data folder).
    pub fn shared_envs(&self) -> Vec<(String, String)> {
        let shared = shared_envs(&self.storage, self.s3.as_ref(), self.database_url.as_deref());
        let mut envs = process_envs(&shared, &self.data_dir, self.database_url.is_none());
        envs.retain(|(name, _)| name != "BULLETIN_DATA_DIR");
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

    /// Write `bytes` over (or as) one object of this server's store, as a rerun of
    /// a stage would (a new file renamed into place; a new S3 object).
    pub async fn replace_object(&self, key: &str, bytes: Vec<u8>) {
        match &self.s3 {
            Some(s3) => {
                let location = self.storage.strip_prefix("s3://").expect("an s3:// location");
                let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
                let prefix = prefix.trim_matches('/');
                let full_key = if prefix.is_empty() { key.to_string() } else { format!("{prefix}/{key}") };
                s3.client()
                    .put_object()
                    .bucket(bucket)
                    .key(full_key)
                    .body(bytes.into())
                    .send()
                    .await
                    .expect("replace the object");
            }
            None => {
                let path = Path::new(self.storage.trim_start_matches("file://")).join(key);
                std::fs::create_dir_all(path.parent().expect("a folder")).expect("the object's folder");
                let fresh = path.with_extension("replacing");
                std::fs::write(&fresh, bytes).expect("write the new file");
                std::fs::rename(&fresh, &path).expect("rename it into place");
            }
        }
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

/// `shared` plus what a command needs to open a server's own SQLite database
/// (in its data folder) and data folder.
fn process_envs(shared: &[(String, String)], data_dir: &Path, sqlite: bool) -> Vec<(String, String)> {
    let mut envs = shared.to_vec();
    if sqlite {
        let url = format!("sqlite://{}", data_dir.join("bulletin.db").display());
        envs.push(("BULLETIN_DATABASE_URL".to_string(), url));
    }
    envs.push(("BULLETIN_DATA_DIR".to_string(), data_dir.display().to_string()));
    envs
}

/// Run `bulletin ARGS` with `envs`, `stdin` as its input; its output.
fn run_bulletin(envs: &[(String, String)], args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(bulletin_exe())
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bulletin");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("bulletin finished")
}

/// Start `bulletin serve` on `data_dir` and wait for its address. The
/// receiver gets the standard output lines that follow (e.g. the setup link).
fn spawn_serve(
    data_dir: &Path,
    args: &[&str],
    shared: &[(String, String)],
    envs: &[(&str, &str)],
) -> (Child, String, std::sync::mpsc::Receiver<String>) {
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
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let base = loop {
        let left = Duration::from_secs(60).saturating_sub(started.elapsed());
        let line = rx.recv_timeout(left).expect("server did not start listening");
        if let Some(url) = line.strip_prefix("bulletin listening on ") {
            break url.to_string();
        }
    };
    (child, base, rx)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP client that sends no credentials.
pub fn anonymous_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("client")
}

/// An HTTP client that sends `token` as `Authorization: Bearer …`.
pub fn signed_in_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().expect("a header value"));
    reqwest::Client::builder().timeout(Duration::from_secs(120)).default_headers(headers).build().expect("client")
}

/// POST a file as an update; returns (status, body).
pub async fn post_update(server: &TestServer, title: &str, file: &Path) -> (u16, Value) {
    let bytes = std::fs::read(file).expect("read fixture");
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_string();
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
    let response = server.client().post(server.url("/api/updates")).multipart(form).send().await.expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = server.client().get(server.url(path)).send().await.expect("get");
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

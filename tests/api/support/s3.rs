//! The S3 side of the harness: the shared s3s-fs named by
//! `BULLETIN_TEST_S3_ENDPOINT` (see scripts/ensure-s3.sh) or one a test starts
//! for itself, and a fresh bucket for every server.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// Where an S3-compatible server answers, and the keys it accepts.
#[derive(Debug, Clone)]
pub struct S3Target {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
}

impl S3Target {
    /// The suite's shared server, when the run is on S3.
    pub fn from_env() -> Option<S3Target> {
        let endpoint = std::env::var("BULLETIN_TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty())?;
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set with the endpoint"));
        Some(S3Target {
            endpoint,
            access_key: var("BULLETIN_TEST_S3_ACCESS_KEY"),
            secret_key: var("BULLETIN_TEST_S3_SECRET_KEY"),
        })
    }

    /// What a `bulletin` process needs to use `location` on this server: the
    /// endpoint and keys the way an operator would give them.
    pub fn process_envs(&self, location: &str) -> Vec<(String, String)> {
        [
            ("BULLETIN_STORAGE", location),
            ("AWS_ENDPOINT_URL", &self.endpoint),
            ("BULLETIN_S3_PATH_STYLE", "true"),
            ("AWS_ACCESS_KEY_ID", &self.access_key),
            ("AWS_SECRET_ACCESS_KEY", &self.secret_key),
            ("AWS_REGION", "us-east-1"),
            // Never look for an instance-metadata service from a test machine.
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// A plain SDK client, for what Bulletin itself never does (make buckets,
    /// look at raw keys).
    pub fn client(&self) -> aws_sdk_s3::Client {
        use aws_smithy_http_client::tls;
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let config = aws_sdk_s3::Config::builder()
            .http_client(https)
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(&self.access_key, &self.secret_key, None, None, "tests"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Create a new, empty bucket and return its name.
    pub async fn create_bucket(&self) -> String {
        let name = format!("bt-{:016x}", rand::random::<u64>());
        self.client()
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("cannot create bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
        name
    }

    /// [`S3Target::create_bucket`] from synchronous code that may run inside a runtime.
    pub fn create_bucket_blocking(&self) -> String {
        let target = self.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(target.create_bucket())
        })
        .join()
        .expect("bucket creation panicked")
    }
}

/// An s3s-fs of this test's own, stopped when dropped.
pub struct S3sFs {
    pub target: S3Target,
    child: Child,
    _root: tempfile::TempDir,
}

/// The s3s-fs binary scripts/ensure-s3.sh installs, or one on PATH.
fn s3s_fs_exe() -> PathBuf {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/s3s-fs");
    if local.is_file() {
        return local;
    }
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("s3s-fs")).find(|p| p.is_file()));
    on_path.unwrap_or_else(|| {
        panic!(
            "s3s-fs not found at {} nor on PATH: run `scripts/ensure-s3.sh install` (the S3 tests do not skip)",
            local.display()
        )
    })
}

impl S3sFs {
    pub fn start() -> S3sFs {
        let exe = s3s_fs_exe();
        let root = tempfile::tempdir().expect("temp dir");
        let target = S3Target {
            endpoint: String::new(),
            access_key: "storage-test".into(),
            secret_key: "storage-test-secret".into(),
        };
        // Find a free port, then hand it over (a lost race shows as a failed start).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&exe)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &target.access_key, "--secret-key", &target.secret_key])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "s3s-fs did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3sFs { target: S3Target { endpoint: format!("http://127.0.0.1:{port}"), ..target }, child, _root: root }
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A headless Chromium driven over WebDriver: chromedriver on a free port, a
//! fresh profile, fake camera and microphone. Everything it starts is killed
//! by process id when the [`Browser`] is dropped.

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_url: String,
    profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER);
        driver.arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null());
        // Its own process group: chromium and its helpers join it, so one kill reaches them all.
        driver.process_group(0);
        let driver = driver.spawn().expect("start chromedriver");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            // Nothing may leave loopback: no QUIC probes, no local-network
            // discovery (Cast's mDNS and SSDP), no field trials or hints.
            "--disable-quic",
            "--disable-features=MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate",
            "--disable-extensions",
            "--disable-default-apps",
            "--no-default-browser-check",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), json!({ "binary": CHROMIUM, "args": args }));
        let driver_url = format!("http://127.0.0.1:{port}");
        let mut browser_driver = Some(driver);
        // chromedriver listens on plain HTTP on loopback.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector).capabilities(caps).connect(&driver_url).await {
            Ok(client) => client,
            Err(e) => {
                if let Some(mut d) = browser_driver.take() {
                    let _ = d.kill();
                }
                panic!("cannot start a WebDriver session with {CHROMIUM}: {e}");
            }
        };
        Browser { client, driver: browser_driver.expect("driver"), driver_url, profile }
    }

    /// A Chrome DevTools Protocol command through chromedriver's `goog/cdp/execute`.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.client.session_id().await.expect("session id").expect("a session");
        let url = format!("{}/session/{session}/goog/cdp/execute", self.driver_url);
        let response = reqwest::Client::new()
            .post(url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .expect("cdp command");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "CDP {cmd} failed: {body}");
        body
    }

    /// Light or dark, as `prefers-color-scheme` sees it.
    pub async fn color_scheme(&self, scheme: &str) {
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
    }

    /// Emulate a phone-sized viewport (`None`: back to the window's own size).
    pub async fn viewport(&self, size: Option<(u32, u32)>) {
        match size {
            Some((width, height)) => {
                self.cdp(
                    "Emulation.setDeviceMetricsOverride",
                    json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": true }),
                )
                .await
            }
            None => self.cdp("Emulation.clearDeviceMetricsOverride", json!({})).await,
        };
    }

    /// Cut the network (`offline`) or bring it back. Requests made while it is cut
    /// fail in the browser's network stack, as on a real drop.
    pub async fn network(&self, offline: bool) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Run `script` (a function body; `arguments` holds `args`) and return its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Poll `script` until it returns something truthy; returns that value.
    pub async fn wait_js(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let started = Instant::now();
        loop {
            let value = self.js(script, vec![]).await;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if started.elapsed() > timeout {
                let state = self.js("return document.body ? document.body.innerText.slice(0, 2000) : ''", vec![]).await;
                panic!(
                    "timed out after {timeout:?} waiting for {what}; page text:\n{}",
                    state.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let element = self.client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await;
        element
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await;
        element
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("current url").to_string()
    }

    /// Save a PNG under `$BULLETIN_TEST_OUTPUT/browser/NAME.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = output_dir().join("browser");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// End the session politely (chromium exits), then drop the processes.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }
}

pub fn output_dir() -> PathBuf {
    std::env::var_os("BULLETIN_TEST_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-output"))
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium processes of this profile (found by our unique profile path),
        // in case one left the group; then the whole group, then the driver.
        let marker = format!("--user-data-dir={}", self.profile.path().display());
        for pid in pids_with_arg(&marker) {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        }
        let group = self.driver.id();
        let _ = Command::new("kill").arg("-KILL").arg(format!("-{group}")).stderr(Stdio::null()).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn pids_with_arg(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| raw.split(|b| *b == 0).any(|arg| arg == marker.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Run an async check, with a label in the panic message if it fails. Each
/// step is also logged to `$BULLETIN_TEST_OUTPUT/browser/steps.txt` as it
/// starts and passes, so how far a run got is known even if it is killed.
pub async fn step<F: Future<Output = ()>>(name: &str, check: F) {
    eprintln!("browser test: {name}");
    log_step(&format!("{name} ..."));
    check.await;
    log_step(&format!("{name} ok"));
}

fn log_step(line: &str) {
    use std::io::Write;
    let dir = output_dir().join("browser");
    let _ = std::fs::create_dir_all(&dir);
    let file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("steps.txt"));
    if let Ok(mut file) = file {
        let _ = writeln!(file, "{line}");
    }
}

//! Many processes sharing one database and one media store (on the second test
//! pass: PostgreSQL and S3): one API server and three workers take 20 uploads, a
//! worker is SIGKILLed in the middle of a job, every update still ends ready with
//! one transcript, and a second server that shares nothing else answers searches
//! the same way.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::Value;

const TOPICS: [&str; 20] = [
    "apples", "bridges", "candles", "dolphins", "engines", "forests", "gardens", "harbors", "islands", "jackets",
    "kettles", "lemons", "marbles", "needles", "oranges", "pencils", "rockets", "saddles", "tunnels", "violins",
];

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bulletin(server: &TestServer, args: &[&str]) -> Command {
    let mut cmd = Command::new(bulletin_exe());
    cmd.args(args).envs(server.shared_envs()).env("BULLETIN_LOG", "warn");
    cmd
}

fn start_worker(server: &TestServer, scratch: &std::path::Path) -> Process {
    let child = bulletin(server, &["worker", "--workers", "1", "--data-dir"])
        .arg(scratch)
        // Three workers share two cores; a short lease gets a dead worker's job back quickly.
        .env("BULLETIN_WHISPER_THREADS", "1")
        .env("BULLETIN_JOB_LEASE_SECS", "3")
        .stdout(Stdio::null())
        .spawn()
        .expect("start bulletin worker");
    Process(child)
}

/// Jobs running right now, as (kind, worker) from `bulletin jobs list`.
fn running_jobs(server: &TestServer) -> Vec<(String, String)> {
    let output = bulletin(server, &["jobs", "list", "--state", "running", "--data-dir"])
        .arg(server.data_dir.join("cli"))
        .output()
        .expect("bulletin jobs list");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some((fields.get(2)?.to_string(), fields.get(5)?.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn three_workers_and_two_servers_share_the_work_and_the_answers() {
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    let scratch = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let videos: Vec<_> = TOPICS
        .iter()
        .enumerate()
        .map(|(n, topic)| {
            speech_video(dir.path(), topic, &format!("Update number {}. Today we talk about {topic}.", n + 1), 0.3)
        })
        .collect();

    let mut workers: Vec<Option<Process>> =
        (0..3).map(|n| Some(start_worker(&server, &scratch.path().join(format!("w{n}"))))).collect();
    let mut ids = Vec::new();
    for (topic, video) in TOPICS.iter().zip(&videos) {
        let (status, body) = post_update(&server, &format!("About {topic}"), video).await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }

    // Kill -9 a worker while it holds a job.
    let started = Instant::now();
    let victim = loop {
        let running = running_jobs(&server);
        let holder = workers.iter().position(|w| {
            let pid = w.as_ref().map(|p| p.0.id()).unwrap_or(0);
            running.iter().any(|(_, worker)| worker.split(':').nth(1) == Some(&pid.to_string()))
        });
        if let Some(n) = holder {
            break n;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no worker ever held a job");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut killed = workers[victim].take().unwrap();
    let _ = killed.0.kill();
    let _ = killed.0.wait();

    for id in &ids {
        let update = wait_until_done(&server, id, Duration::from_secs(600)).await;
        assert_eq!(update["status"], "ready", "{update}");
    }
    for id in &ids {
        let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
        let segments = transcript["segments"].as_array().unwrap();
        assert!(!segments.is_empty(), "{id}: {transcript}");
        // One transcript: a second copy would repeat segments and break the order.
        let starts: Vec<i64> = segments.iter().map(|s| s["start_ms"].as_i64().unwrap()).collect();
        assert!(starts.windows(2).all(|w| w[0] < w[1]), "{id}: duplicated or unordered segments {starts:?}");
    }

    // A second server with its own, empty index catches up from the database.
    let second_dir = tempfile::tempdir().unwrap();
    let mut second = bulletin(&server, &["serve", "--listen", "127.0.0.1:0", "--workers", "0", "--data-dir"])
        .arg(second_dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a second server");
    let stdout = BufReader::new(second.stdout.take().expect("stdout"));
    let second_base = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("bulletin listening on ").map(str::to_string))
        .expect("second server address");
    let second = Process(second);

    let http = server.client();
    let hits = |base: String, query: &'static str| {
        let http = http.clone();
        async move {
            let body: Value =
                http.get(format!("{base}/api/search?q={query}")).send().await.unwrap().json().await.unwrap();
            // The same updates, moments and snippets. Scores are left out: BM25 sums
            // floats in segment order, and two indexes built at different times may
            // hold the same documents in different segments.
            let mut found: Vec<String> = body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hit| format!("{} {} {}", hit["update_id"], hit["title_snippet"], hit["matches"]))
                .collect();
            found.sort();
            found
        }
    };
    // Every title is "About …": all twenty, with their transcript matches.
    let everything = hits(server.base.clone(), "about").await;
    assert_eq!(everything.len(), 20, "{everything:?}");
    let started = Instant::now();
    loop {
        let caught_up = hits(second_base.clone(), "about").await;
        if caught_up == everything {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the second server's index never caught up:\n{caught_up:#?}\nvs\n{everything:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for query in ["dolphins", "tunnels", "violins", "today", "\"we%20talk\"", "lemon"] {
        assert_eq!(hits(server.base.clone(), query).await, hits(second_base.clone(), query).await, "{query}");
    }
    drop(second);
    drop(workers);
}

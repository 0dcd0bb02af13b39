//! Hardening: what a hostile or careless client can make the server do, and the
//! headers every answer carries.

use std::time::Duration;

use crate::support::*;
use reqwest::header::X_CONTENT_TYPE_OPTIONS;
use reqwest::Method;

#[tokio::test]
async fn every_answer_forbids_content_sniffing() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "tone", 2.0, "160x120", 10);
    let (status, body) = post_update(&server, "Sniffing", &video).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    wait_until_done(&server, &id, Duration::from_secs(120)).await;

    let client = server.client();
    let mut answers = Vec::new();
    for path in [
        format!("/api/updates/{id}"),
        format!("/api/updates/{id}/video"),
        format!("/api/updates/{id}/poster.jpg"),
        format!("/api/updates/{id}/storyboard.jpg"),
        format!("/api/updates/{id}/storyboard.vtt"),
        format!("/api/updates/{id}/transcript"),
        format!("/api/updates/{id}/transcript.vtt"),
        format!("/api/updates/{id}/transcript.srt"),
        "/api/updates/0000000000000000".to_string(),
        "/api/no-such-endpoint".to_string(),
        "/metrics".to_string(),
        "/".to_string(),
    ] {
        answers.push((path.clone(), client.get(server.url(&path)).send().await.unwrap()));
    }
    let ranged =
        client.get(server.url(&format!("/api/updates/{id}/video"))).header("range", "bytes=0-99").send().await.unwrap();
    answers.push(("video, bytes 0-99".into(), ranged));
    let anonymous = anonymous_client().get(server.url(&format!("/api/updates/{id}"))).send().await.unwrap();
    answers.push(("anonymous".into(), anonymous));

    for (what, answer) in answers {
        assert_eq!(
            answer.headers().get(X_CONTENT_TYPE_OPTIONS).map(|v| v.to_str().unwrap().to_string()),
            Some("nosniff".to_string()),
            "{what}: {} {:?}",
            answer.status(),
            answer.headers()
        );
    }
}

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let server = TestServer::start();
    let client = server.client();
    for n in 0..20 {
        let method = Method::from_bytes(format!("RANDOM{n}").as_bytes()).unwrap();
        for path in ["/api/updates", "/healthz", "/metrics"] {
            let status = client.request(method.clone(), server.url(path)).send().await.unwrap().status();
            assert!(status.is_client_error(), "{method} {path}: {status}");
        }
    }
    let metrics = client.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("RANDOM"), "{metrics}");
    // They are still counted, under one label.
    assert!(metrics.contains("method=\"other\",route=\"/api/updates\",status=\"405\""), "{metrics}");
}

#[tokio::test]
async fn a_resumed_download_never_splices_two_versions_of_a_file() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "tone", 2.0, "160x120", 10);
    let (_, body) = post_update(&server, "Versions", &video).await;
    let id = body["id"].as_str().unwrap().to_string();
    wait_until_done(&server, &id, Duration::from_secs(120)).await;
    let url = server.url(&format!("/api/updates/{id}/video"));
    let client = server.client();

    let first = client.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2, "a strong tag: {etag}");
    let old = first.bytes().await.unwrap();
    // Unchanged: a revalidation is answered without the bytes, a range of the same file is a range.
    let cached = client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"], etag.as_str());
    let resumed = client.get(&url).header("range", "bytes=100-").header("if-range", &etag).send().await.unwrap();
    assert_eq!(resumed.status(), 206);
    assert_eq!(resumed.bytes().await.unwrap(), old.slice(100..));

    // The stage runs again and writes another file under the same key.
    let mut new = old.to_vec();
    new.extend_from_slice(b"another encode");
    let key = server.stored_keys().await.into_iter().find(|k| k.ends_with("/video.mp4")).expect("the video's key");
    server.replace_object(&key, new.clone()).await;

    let resumed = client.get(&url).header("range", "bytes=100-").header("if-range", &etag).send().await.unwrap();
    assert_eq!(resumed.status(), 200, "the old tag does not match: the whole new file");
    let new_etag = resumed.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    assert_eq!(resumed.bytes().await.unwrap(), new.as_slice());
    let stale = client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(stale.status(), 200);
    let ranged = client.get(&url).header("range", "bytes=0-9").header("if-range", &new_etag).send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap(), &new[..10]);
}

/// Whether this test runs as root (a new network namespace needs no user namespace then).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// The `bulletin media` children of `parent` running now: (pid, command line).
fn media_children(parent: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // `pid (comm) state ppid …`: the command name may hold spaces, so count from its `)`.
        let ppid =
            stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)).and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if ppid == Some(parent) && cmdline.contains(" media ") {
            found.push((pid, cmdline));
        }
    }
    found
}

#[tokio::test]
async fn media_children_get_no_secrets_and_run_under_limits() {
    let secret = "fake-secret-that-must-stay-in-the-server";
    let server = TestServer::start_with(&[], &[("BULLETIN_FAULT", "hang:transcode"), ("BULLETIN_TEST_SECRET", secret)]);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "held", 2.0, "160x120", 10);
    let (status, body) = post_update(&server, "Held", &video).await;
    assert_eq!(status, 202, "{body}");

    // The transcode hangs in its child; once the transcription beside it is done,
    // that child is the only one left: look at it while it is there.
    let id = body["id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let (pid, cmdline) = loop {
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        let children = media_children(server.pid());
        if update["stages"]["transcribe"]["state"] == "done" && update["stages"]["transcode"]["state"] == "running" {
            if let [child] = children.as_slice() {
                break child.clone();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(90), "no lone media child: {children:?} {update}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ).into_owned();
    let names: Vec<&str> = environ.split('\0').filter_map(|pair| pair.split_once('=').map(|(name, _)| name)).collect();
    assert!(!environ.contains(secret), "the child inherited the server's environment: {names:?}");
    for name in &names {
        assert!(
            ["MALLOC_ARENA_MAX", "BULLETIN_MEDIA_PARENT", "BULLETIN_FAULT"].contains(name),
            "{name} reached the child"
        );
    }

    // The child sets its limits first thing after it starts, and confines itself
    // once it has read its request; it may have only just started.
    let started = std::time::Instant::now();
    let (limits, status) = loop {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let limited =
            limits.lines().any(|l| l.starts_with("Max open files") && l.split_whitespace().nth(3) == Some("64"));
        let confined = status.lines().any(|l| l.starts_with("Seccomp:") && l.ends_with('2'));
        if (limited && confined) || started.elapsed() > Duration::from_secs(10) {
            break (limits, status);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Landlock's restriction sets no_new_privs, and a seccomp filter is on: the
    // confinement was applied.
    assert!(status.lines().any(|l| l.starts_with("NoNewPrivs:") && l.ends_with('1')), "{status}");
    assert!(status.lines().any(|l| l.starts_with("Seccomp:") && l.ends_with('2')), "{status}");
    // Where the kernel allows one (root, or unprivileged user namespaces), a network of its own.
    let child_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let server_net = std::fs::read_link(format!("/proc/{}/ns/net", server.pid())).unwrap();
    if running_as_root() {
        assert_ne!(child_net, server_net, "the media process shares the server's network");
    } else {
        eprintln!("not root: whether the media process gets a network namespace depends on user namespaces here");
    }
    let limit = |what: &str| -> Vec<String> {
        let line = limits.lines().find(|l| l.starts_with(what)).unwrap_or_else(|| panic!("{what} in {limits}"));
        line[what.len()..].split_whitespace().take(2).map(str::to_string).collect()
    };
    assert_eq!(limit("Max core file size"), ["0", "0"], "{cmdline}");
    assert_eq!(limit("Max open files"), ["64", "64"], "{cmdline}");
    let file_size = limit("Max file size");
    assert_ne!(file_size[0], "unlimited", "{limits}");
    let address_space = limit("Max address space");
    assert_eq!(address_space[0], (4096u64 << 20).to_string(), "{limits}");
}

#[tokio::test]
async fn hostile_searches_are_merged_or_refused() {
    let server = TestServer::start();
    // 85 copies of a one-letter prefix: one exact word, answered like any search.
    let (status, body) = get_json(&server, &format!("/api/search?q={}", "t*%20".repeat(85))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"], serde_json::json!([]));
    // Eleven different words: refused, saying why.
    let (status, body) = get_json(&server, "/api/search?q=ab%20cd%20ef%20gh%20ij%20kl%20mn%20op%20qr%20st%20uv").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "too_many_words");
    assert!(body["error"]["message"].as_str().unwrap().contains("at most 10"), "{body}");
    // Ten, even repeated, are fine.
    let (status, body) =
        get_json(&server, "/api/search?q=ab%20cd%20ef%20gh%20ij%20kl%20mn%20op%20qr%20st%20ab%20cd").await;
    assert_eq!(status, 200, "{body}");
}

/// 40 uploads at once against 2 media slots and a queue of 4 (each probe held
/// for 8 s): never more than 2 media processes, and everyone else told "busy".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_beyond_the_media_slots_are_told_to_come_back() {
    let server = std::sync::Arc::new(TestServer::start_with(
        // Probes held for 8 s: the burst is over long before a slot frees up, even on a busy machine.
        &["--media-slots", "2", "--media-queue", "4", "--workers", "0", "--job-timeout-secs", "8"],
        &[("BULLETIN_FAULT", "hang:probe")],
    ));
    let dir = tempfile::tempdir().unwrap();
    let video = std::sync::Arc::new(tone_video(dir.path(), "burst", 1.0, "64x64", 5));

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (done, pid) = (done.clone(), server.pid());
        std::thread::spawn(move || {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                most = most.max(media_children(pid).len());
                std::thread::sleep(Duration::from_millis(5));
            }
            most
        })
    };
    let uploads: Vec<_> = (0..40)
        .map(|n| {
            let (server, video) = (server.clone(), video.clone());
            tokio::spawn(async move { post_update(&server, &format!("Burst {n}"), &video).await })
        })
        .collect();
    let mut codes = Vec::new();
    for upload in uploads {
        let (status, body) = upload.await.unwrap();
        assert_eq!(status, 503, "{body}");
        codes.push(body["error"]["code"].as_str().unwrap_or_default().to_string());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let most = watcher.join().unwrap();
    assert!(most <= 2, "{most} media processes ran at once");
    assert!(most >= 1, "the probes did run");
    // At most 2 ran and 4 queued; the rest were refused at once. The ones that ran
    // timed out (the fault holds them): a transient failure, "try again".
    let busy = codes.iter().filter(|c| *c == "busy").count();
    assert!(busy >= 34, "{busy} busy of {codes:?}");
    assert!(codes.iter().all(|c| c == "busy" || c == "try_again"), "{codes:?}");
    let metrics = server.client().get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bulletin_media_slots 2\n"), "{metrics}");
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("bulletin_media_refused_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!(refused >= busy as u64, "{refused} refused in the metrics, {busy} answered busy");
    let (_, listed) = get_json(&server, "/api/updates").await;
    assert_eq!(listed["updates"].as_array().map(Vec::len), Some(0), "{listed}");
}

/// Make a file or folder look `hours` old.
fn age(path: &std::path::Path, hours: u32) {
    let status =
        std::process::Command::new("touch").arg("-d").arg(format!("{hours} hours ago")).arg(path).status().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_janitor_removes_what_nothing_owns_and_nothing_else() {
    let server = TestServer::start_with(&["--janitor-interval-secs", "1", "--job-timeout-secs", "60"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "kept", 2.0, "160x120", 10);
    let (_, body) = post_update(&server, "Kept", &video).await;
    let id = body["id"].as_str().unwrap().to_string();
    wait_until_done(&server, &id, Duration::from_secs(120)).await;
    let owned = server.stored_keys().await;

    // Planted: media of an update the database never recorded (a crash between
    // storing a source and inserting its row), and local leftovers.
    server.replace_object("updates/1m8y0000000orphn/source", b"orphaned bytes".to_vec()).await;
    let resumable = server.data_dir.join("resumable");
    std::fs::create_dir_all(&resumable).unwrap();
    let old_bin = resumable.join("0123456789abcdef0123456789abcdef.bin");
    let old_tmp = resumable.join("fedcba9876543210fedcba9876543210.json.tmp");
    let young_bin = resumable.join("00000000000000000000000000000000.bin");
    for path in [&old_bin, &old_tmp, &young_bin] {
        std::fs::write(path, b"partial").unwrap();
    }
    let scratch = server.data_dir.join("tmp").join("jobs").join("999-1");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(scratch.join("video.mp4"), b"half a transcode").unwrap();
    for path in [&old_bin, &old_tmp, &scratch] {
        age(path, 2);
    }

    let started = std::time::Instant::now();
    loop {
        let keys = server.stored_keys().await;
        let gone =
            !keys.iter().any(|k| k.contains("orphn")) && !old_bin.exists() && !old_tmp.exists() && !scratch.exists();
        if gone {
            assert_eq!(keys, owned, "only the orphan's objects went");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the janitor left {keys:?} or local leftovers");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Young files may belong to work in progress: they stay.
    assert!(young_bin.exists());
    let video = server.client().get(server.url(&format!("/api/updates/{id}/video"))).send().await.unwrap();
    assert_eq!(video.status(), 200);
}

/// A stage that could fill the disk waits for space: its attempt fails with
/// `disk_full`, is retried, and finishes once there is room.
#[tokio::test]
async fn processing_waits_for_disk_space() {
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "waits", 2.0, "160x120", 10);
    let (status, body) = post_update(&server, "Waits", &video).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    // Workers on a disk that must keep more free than it has.
    let server = server.kill_and_restart(&["--min-free-disk-mb", "1000000000", "--job-max-attempts", "10"], &[]);
    let started = std::time::Instant::now();
    loop {
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        if update["stages"]["transcode"]["error_code"] == "disk_full" {
            assert_eq!(update["status"], "processing", "{update}");
            assert_eq!(update["stages"]["transcode"]["error"], "The server's disk is short of space", "{update}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no disk_full attempt: {update}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Room again: the retries go through.
    let server = server.kill_and_restart(&[], &[]);
    let update = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    assert_eq!(update["status"], "ready", "{update}");
}

/// A power loss cannot be staged here, but the calls that make a new update's
/// source survive one can be watched: its file is renamed into a new folder
/// `updates/{id}/`, so that folder and `updates/`, whose entry names it, must
/// both be fsynced before the update is accepted.
#[tokio::test]
async fn a_new_update_s_folders_are_fsynced_up_the_chain() {
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    if server.s3.is_some() {
        eprintln!("skipped: an S3 store has no folders to fsync");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("fsync.txt");
    // Every thread of the server, each traced; -y prints the path behind each descriptor.
    let mut strace = std::process::Command::new("strace");
    strace.args(["-qq", "-f", "-y", "-e", "trace=fsync,fdatasync", "-o"]).arg(&trace);
    let tasks: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
        .unwrap()
        .filter_map(|t| t.ok()?.file_name().into_string().ok())
        .collect();
    for task in &tasks {
        strace.args(["-p", task]);
    }
    let mut strace = strace.spawn().expect("strace (scripts/install-deps.sh installs it)");
    let started = std::time::Instant::now();
    while !tasks.iter().all(|t| {
        std::fs::read_to_string(format!("/proc/{}/task/{t}/status", server.pid()))
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("TracerPid:") && !l.ends_with("\t0")))
    }) {
        assert!(started.elapsed() < Duration::from_secs(20), "strace did not attach");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let video = tone_video(dir.path(), "durable", 1.0, "64x64", 5);
    let (status, body) = post_update(&server, "Durable", &video).await;
    let _ = std::process::Command::new("kill").args(["-INT", &strace.id().to_string()]).status();
    let _ = strace.wait();
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap();

    let calls = std::fs::read_to_string(&trace).unwrap();
    let updates = std::path::Path::new(&server.storage).canonicalize().unwrap().join("updates");
    let synced = |folder: &std::path::Path| calls.lines().any(|l| l.contains(&format!("<{}>", folder.display())));
    assert!(synced(&updates.join(id)), "updates/{id}/ was not fsynced:\n{calls}");
    assert!(synced(&updates), "updates/ (which names the new folder) was not fsynced:\n{calls}");
}

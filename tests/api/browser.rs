//! The web app in a real (headless) Chromium against the real server: first-run
//! setup, signing in and out, feed,
//! watch (play, transcript seek, `?t=` deep links, correcting a line), search to the moment, and
//! recording from Chromium's fake camera and microphone through to "ready".
//!
//! One server and one browser serve every step, in order, to keep the suite
//! fast; each step asserts real behaviour and leaves a screenshot under
//! `$BULLETIN_TEST_OUTPUT/browser/`.

use std::time::Duration;

use crate::support::browser::{step, Browser};
use crate::support::{
    get_json, long_faststart_mp4, noisy_video, post_update, send, signed_in_client, speech_video, tone_video,
    wait_until_done, S3sFs, TestServer, ADMIN_LOGIN, ADMIN_PASSWORD,
};
use serde_json::{json, Value};

const SPEECH: &str = "Good morning team. This is the weekly update. \
    The database migration finished yesterday, and the review is next Tuesday.";
const TITLE: &str = "Weekly database update";
/// A word whisper tiny.en reliably gets right in [`SPEECH`].
const SPOKEN_WORD: &str = "migration";
const PROCESSING: Duration = Duration::from_secs(240);
const PAGE: Duration = Duration::from_secs(20);

async fn f64_of(browser: &Browser, script: &str) -> f64 {
    browser.js(script, vec![]).await.as_f64().unwrap_or_else(|| panic!("not a number from {script}"))
}

/// Wait for the watch page's video to know its duration, and for any pending seek to finish.
async fn wait_video_ready(browser: &Browser) {
    browser
        .wait_js(
            "the video's metadata",
            "const v = document.querySelector('#video'); return !!v && v.readyState >= 1 && !v.seeking && Number.isFinite(v.duration)",
            PAGE,
        )
        .await;
}

/// Play (muted) and return the position after it has clearly advanced.
async fn assert_plays(browser: &Browser) {
    let before = f64_of(browser, "return document.querySelector('#video').currentTime").await;
    browser.js("const v = document.querySelector('#video'); v.muted = true; v.play(); return true", vec![]).await;
    let advanced = browser
        .wait_js(
            "the video to play",
            &format!("const v = document.querySelector('#video'); return !v.paused && v.currentTime > {} ? v.currentTime : 0", before + 0.5),
            PAGE,
        )
        .await;
    assert!(advanced.as_f64().unwrap_or(0.0) > before + 0.5, "currentTime did not advance from {before}: {advanced}");
}

/// Sign in on the login page as the test admin, asking to land on update `id`'s watch page.
async fn sign_in_as_admin(browser: &Browser, server: &TestServer, id: &str) {
    browser.goto(&server.url(&format!("/login?next=%2Fupdates%2F{id}"))).await;
    browser.type_into("#login", ADMIN_LOGIN).await;
    browser.type_into("#password", ADMIN_PASSWORD).await;
    browser.click(".auth-form button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_app_in_a_real_browser() {
    let (mut server, setup_link) = TestServer::start_without_accounts();
    let fixtures = tempfile::tempdir().expect("fixtures");
    let video = speech_video(fixtures.path(), "weekly", SPEECH, 1.5);
    let browser = Browser::start().await;

    step("0. first run: the setup link creates the admin", async {
        browser.goto(&setup_link).await;
        browser.screenshot("setup").await;
        browser.type_into("#login", ADMIN_LOGIN).await;
        browser.type_into("#display_name", "Test Admin").await;
        browser.type_into("#password", ADMIN_PASSWORD).await;
        browser.click(".auth-form button[type=submit]").await;
        browser
            .wait_js(
                "the feed, signed in",
                "return location.pathname === '/' && !!document.querySelector('.nav-signout')",
                PAGE,
            )
            .await;
        browser.click(".nav-signout").await;
        browser.wait_js("the login page", "return location.pathname === '/login'", PAGE).await;
    })
    .await;
    // The API half of the test posts with a token of the admin made in the browser.
    server.token = server.new_token(ADMIN_LOGIN);
    let (status, created) = post_update(&server, TITLE, &video).await;
    assert_eq!(status, 202, "upload refused: {created}");
    let id = created["id"].as_str().expect("update id").to_string();
    let update = wait_until_done(&server, &id, PROCESSING).await;
    assert_eq!(update["status"], "ready", "the fixture should process: {update}");

    step("0b. signing in comes back to where the person was going", async {
        browser.goto(&server.url("/search?q=weekly")).await;
        browser
            .wait_js(
                "the login page",
                "return location.pathname === '/login' && !!document.querySelector('#login')",
                PAGE,
            )
            .await;
        assert!(browser.url().await.ends_with("/login?next=%2Fsearch%3Fq%3Dweekly"), "{}", browser.url().await);
        browser.screenshot("login").await;
        browser.type_into("#login", ADMIN_LOGIN).await;
        browser.type_into("#password", "not the password").await;
        browser.click(".auth-form button[type=submit]").await;
        let refused = browser
            .wait_js(
                "the refusal",
                "const e = document.querySelector('.auth-error'); return e ? e.textContent : ''",
                PAGE,
            )
            .await;
        assert_eq!(refused, json!("wrong login name or password"));
        browser.js("document.querySelector('#password').value = ''; return true", vec![]).await;
        browser.type_into("#password", ADMIN_PASSWORD).await;
        browser.click(".auth-form button[type=submit]").await;
        browser
            .wait_js("the search page", "return location.pathname + location.search === '/search?q=weekly'", PAGE)
            .await;
    })
    .await;

    step("1. the feed lists the update", async {
        browser.goto(&server.url("/")).await;
        let href = browser
            .wait_js(
                "the update's card",
                &format!("const a = document.querySelector('.card[data-id=\"{id}\"] h2 a'); return a ? a.getAttribute('href') : ''"),
                PAGE,
            )
            .await;
        assert_eq!(href, json!(format!("/updates/{id}")));
        let title = browser.js(&format!("return document.querySelector('.card[data-id=\"{id}\"] h2').textContent"), vec![]).await;
        assert_eq!(title, json!(TITLE));
        let poster = browser
            .wait_js("the poster", &format!("const i = document.querySelector('.card[data-id=\"{id}\"] img'); return !!i && i.complete && i.naturalWidth > 0"), PAGE)
            .await;
        assert_eq!(poster, json!(true));
        browser.screenshot("feed").await;
    })
    .await;

    let watch = server.url(&format!("/updates/{id}"));
    step("2. the watch page plays", async {
        browser.goto(&watch).await;
        wait_video_ready(&browser).await;
        browser.wait_js("transcript lines", "return document.querySelectorAll('#transcript li').length", PAGE).await;
        assert_plays(&browser).await;
        browser.js("document.querySelector('#video').pause(); return true", vec![]).await;
        // Skim aids from the transcript API: paragraphs shown, chapters start at 0.
        let (status, skim) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
        assert_eq!(status, 200);
        assert!(skim["segments"].as_array().is_some_and(|s| !s.is_empty()), "{skim}");
        assert!(skim["paragraphs"].as_array().is_some_and(|p| !p.is_empty()), "{skim}");
        assert_eq!(skim["chapters"][0]["start_ms"], json!(0), "{skim}");
        let paragraphs = browser.js("return document.querySelector('#read-section').hidden ? 0 : document.querySelectorAll('#paragraphs .para').length", vec![]).await;
        assert_eq!(paragraphs.as_u64(), Some(skim["paragraphs"].as_array().map_or(0, Vec::len) as u64));
        browser.screenshot("watch").await;
    })
    .await;

    step("3. clicking a transcript line seeks there", async {
        let lines = browser
            .js("return [...document.querySelectorAll('#transcript li')].map(li => Number(li.dataset.startMs))", vec![])
            .await;
        let starts: Vec<f64> = lines.as_array().expect("line starts").iter().filter_map(Value::as_f64).collect();
        assert!(!starts.is_empty(), "the transcript has lines");
        let current = f64_of(&browser, "return document.querySelector('#video').currentTime").await;
        // The line farthest from where we are, so the seek is visible.
        let (index, start_ms) = starts
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| (a.1 / 1000.0 - current).abs().total_cmp(&(b.1 / 1000.0 - current).abs()))
            .expect("a line");
        browser.click(&format!("#transcript li:nth-child({}) button", index + 1)).await;
        wait_video_ready(&browser).await;
        let now = f64_of(&browser, "return document.querySelector('#video').currentTime").await;
        assert!((now - start_ms / 1000.0).abs() <= 0.3, "clicked line at {start_ms} ms, video at {now} s");
        let highlighted = browser
            .wait_js(
                "the clicked line to be highlighted",
                &format!(
                    "return document.querySelector('#transcript li:nth-child({})').classList.contains('is-current')",
                    index + 1
                ),
                PAGE,
            )
            .await;
        assert_eq!(highlighted, json!(true));
    })
    .await;

    let duration_s = update["duration_ms"].as_f64().expect("duration") / 1000.0;
    step("4. ?t= starts at that moment", async {
        let t = (duration_s / 2.0).floor();
        for (query, expected) in [(format!("{t}"), t), ("0m3s".to_string(), 3.0)] {
            browser.goto(&format!("{watch}?t={query}")).await;
            wait_video_ready(&browser).await;
            browser
                .wait_js(
                    "the deep-link seek",
                    &format!("return Math.abs(document.querySelector('#video').currentTime - {expected}) <= 0.5"),
                    PAGE,
                )
                .await;
            let now = f64_of(&browser, "return document.querySelector('#video').currentTime").await;
            assert!((now - expected).abs() <= 0.5, "?t={query}: expected {expected} s, video at {now} s");
        }
        browser.screenshot("watch-deep-link").await;
    })
    .await;

    step("5. search lands on the moment", async {
        browser.goto(&server.url("/search")).await;
        browser.type_into("#q", SPOKEN_WORD).await;
        let href = browser
            .wait_js("a search match", &format!("const a = document.querySelector('.hit[data-id=\"{id}\"] a.match'); return a ? a.getAttribute('href') : ''"), PAGE)
            .await;
        let href = href.as_str().expect("href").to_string();
        assert!(browser.url().await.ends_with(&format!("/search?q={SPOKEN_WORD}")), "the query is in the URL: {}", browser.url().await);
        let marked = browser.js(&format!("return document.querySelector('.hit[data-id=\"{id}\"] a.match mark')?.textContent || ''"), vec![]).await;
        assert!(marked.as_str().unwrap_or_default().to_lowercase().contains(SPOKEN_WORD), "snippet marks the word: {marked}");
        let start_ms = f64_of(&browser, &format!("return Number(document.querySelector('.hit[data-id=\"{id}\"] a.match').dataset.startMs)")).await;
        browser.screenshot("search").await;

        browser.click(&format!(".hit[data-id=\"{id}\"] a.match")).await;
        browser.wait_js("the watch page", &format!("return location.pathname === '/updates/{id}'"), PAGE).await;
        let url = browser.url().await;
        let t: f64 = match url.split_once("?t=") {
            Some((_, t)) => t.parse().expect("numeric t"),
            None => 0.0,
        };
        assert_eq!(t, (start_ms / 1000.0).floor(), "{href} → {url}: t is the match's start second");
        wait_video_ready(&browser).await;
        browser.wait_js("the search seek", &format!("return Math.abs(document.querySelector('#video').currentTime - {t}) <= 0.5"), PAGE).await;
        let now = f64_of(&browser, "return document.querySelector('#video').currentTime").await;
        assert!((now - t).abs() <= 0.5 && (now - start_ms / 1000.0).abs() <= 1.0, "match at {start_ms} ms, video at {now} s");
    })
    .await;

    step("6. a transcript line is corrected in place", async {
        // It keeps the spoken word, which the later search screenshots look for.
        const CORRECTED: &str = "Good morning everyone, the migration line corrected by hand.";
        browser.goto(&watch).await;
        browser
            .wait_js("transcript lines", "return document.querySelectorAll('#transcript li .edit-line').length", PAGE)
            .await;
        // The Edit button appears on hover; a DOM click stands in for the pointer.
        browser.js("document.querySelector('#transcript li:nth-child(1) .edit-line').click()", vec![]).await;
        browser
            .wait_js(
                "the line's form",
                "return document.activeElement?.classList.contains('edit-input') || false",
                PAGE,
            )
            .await;
        browser.js("document.querySelector('#transcript .edit-input').value = ''", vec![]).await;
        browser.type_into("#transcript .edit-input", CORRECTED).await;
        browser.screenshot("watch-correct-line").await;
        browser.click("#transcript .edit-form button[type=submit]").await;
        browser
            .wait_js(
                "the corrected line",
                &format!(
                    "return document.querySelector('#transcript li:nth-child(1) .text')?.textContent === {}",
                    json!(CORRECTED)
                ),
                PAGE,
            )
            .await;
        let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
        assert_eq!(transcript["segments"][0]["text"], CORRECTED, "the server stored the correction");
        let paragraphs = browser.js("return document.querySelector('#paragraphs').textContent", vec![]).await;
        assert!(paragraphs.as_str().unwrap_or_default().contains(CORRECTED), "the reading view follows: {paragraphs}");

        // An empty line is refused in the page, and the stored line stays.
        browser.js("document.querySelector('#transcript li:nth-child(1) .edit-line').click()", vec![]).await;
        browser.js("document.querySelector('#transcript .edit-input').value = '   '", vec![]).await;
        browser.click("#transcript .edit-form button[type=submit]").await;
        browser
            .wait_js("the empty-line message", "return !document.querySelector('#transcript .edit-error').hidden", PAGE)
            .await;
        browser.js("document.querySelector('#transcript .edit-form .btn-quiet').click()", vec![]).await;
        let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
        assert_eq!(transcript["segments"][0]["text"], CORRECTED);
    })
    .await;

    let mut recorded = String::new();
    step("7. record, upload to a channel and reach ready", async {
        let created = server.client().post(server.url("/api/channels")).json(&json!({ "name": "Team Berlin" })).send().await.unwrap();
        assert_eq!(created.status(), 201);
        browser.goto(&server.url("/record")).await;
        browser.click("#enable").await;
        browser.wait_js("the live preview", "return document.querySelector('#recorder').dataset.state === 'live' && document.querySelector('#live').videoWidth > 0", PAGE).await;
        browser.screenshot("record-live").await;
        browser.click("#start").await;
        browser.wait_js("the countdown", "return document.querySelector('#countdown').hidden === false", PAGE).await;
        browser.wait_js("recording", "return document.querySelector('#recorder').dataset.state === 'recording'", PAGE).await;
        tokio::time::sleep(Duration::from_millis(3500)).await;
        browser.screenshot("record-recording").await;
        browser.click("#stop").await;
        browser.wait_js("the recorded preview", "return document.querySelector('#recorder').dataset.state === 'recorded' && !!document.querySelector('#playback').src", PAGE).await;
        browser.type_into("#title", "Recorded in the browser").await;
        // The picker lists the channels this person may post in.
        let picked = browser
            .wait_js("the channel picker", "const o = [...document.querySelectorAll('#channel option')].map(o => o.value); return o.includes('team-berlin') ? o.join(',') : ''", PAGE)
            .await;
        assert_eq!(picked, json!("general,team-berlin"));
        browser.js("document.querySelector('#channel').value = 'team-berlin'; return true", vec![]).await;
        browser.type_into("#description", "Notes: https://docs.example/plan.").await;
        browser.click("#post").await;
        let state = browser
            .wait_js(
                "processing to finish",
                "const s = document.querySelector('#recorder').dataset.state; return ['ready', 'failed'].includes(s) ? s : (s === 'recorded' && !document.querySelector('#record-message').hidden ? 'upload-error: ' + document.querySelector('#record-message').textContent : '')",
                PROCESSING,
            )
            .await;
        browser.screenshot("record-done").await;
        assert_eq!(state, json!("ready"), "message: {}", browser.js("return document.querySelector('#record-message').textContent", vec![]).await);
        let link = browser.js("return document.querySelector('#watch-link').getAttribute('href')", vec![]).await;
        let link = link.as_str().expect("watch link").to_string();
        assert!(link.starts_with("/updates/") && link != format!("/updates/{id}"), "{link}");
        recorded = link.trim_start_matches("/updates/").to_string();
        let (_, posted) = get_json(&server, &format!("/api/updates/{recorded}")).await;
        assert_eq!(posted["author"]["login"], ADMIN_LOGIN, "posted as the signed-in person: {posted}");
        assert_eq!(posted["channel"]["slug"], "team-berlin", "posted to the picked channel: {posted}");
        assert_eq!(posted["description"], "Notes: https://docs.example/plan.");
        browser.goto(&server.url(&link)).await;
        wait_video_ready(&browser).await;
        // The description's link is clickable (without the sentence's full stop), opening elsewhere.
        let anchor = browser
            .wait_js("the description's link", "const a = document.querySelector('#description a'); return a ? [a.getAttribute('href'), a.target, a.rel].join(' ') : ''", PAGE)
            .await;
        assert_eq!(anchor, json!("https://docs.example/plan _blank noopener noreferrer"));
        assert_plays(&browser).await;
    })
    .await;

    step("7b. a private channel made on the Channels page", async {
        browser.goto(&server.url("/channels")).await;
        browser.wait_js("the channel list", "return !document.querySelector('#create-panel').hidden && document.querySelectorAll('#channels tbody tr').length === 2", PAGE).await;
        browser.type_into("#create-name", "Reorg").await;
        browser.click("#create-private").await;
        browser.click("#create-form button[type=submit]").await;
        let shown = browser
            .wait_js("the new private channel", "const r = document.querySelector('#channels tr[data-slug=\"reorg\"]'); return r && !document.querySelector('#members-panel').hidden ? r.textContent : ''", PAGE)
            .await;
        assert!(shown.as_str().unwrap_or_default().contains("private"), "{shown}");
        browser.screenshot("channels-private").await;
    })
    .await;

    // Counts what the page sends through tus, so the steps below can tell a
    // resumed upload from one that started over.
    const WATCH_TUS: &str = "window.tusLog = { creations: 0, offsets: [] };
        const header = XMLHttpRequest.prototype.setRequestHeader;
        XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
            if (name === 'Upload-Offset') window.tusLog.offsets.push(Number(value));
            return header.call(this, name, value);
        };
        const plainFetch = window.fetch;
        window.fetch = function (url, options) {
            if ((options?.method || 'GET') === 'POST' && String(url).endsWith('/api/uploads')) window.tusLog.creations += 1;
            return plainFetch.call(this, url, options);
        };
        return true";
    const UPLOAD_STATE: &str = "const p = document.querySelector('#upload-panel'); const m = document.querySelector('#upload-message'); \
        return ['done', 'failed'].includes(p.dataset.state) ? p.dataset.state + (m.hidden ? '' : ': ' + m.textContent) : ''";

    let mut uploaded = String::new();
    step("7d. a file dropped on the feed goes up through tus and is processed", async {
        browser.goto(&server.url("/?channel=team-berlin")).await;
        browser.wait_js("the feed", "return document.querySelector('#feed-loading').hidden", PAGE).await;
        browser.js(WATCH_TUS, vec![]).await;
        // A real drop event carrying a real video file (the one step 0 posted, read back by the page).
        let size = std::fs::metadata(&video).expect("fixture").len();
        browser
            .js(
                &format!(
                    "const bytes = await (await fetch('/api/updates/{id}/video')).blob();
                     const file = new File([bytes], 'standup-notes.mp4', {{ type: 'video/mp4' }});
                     const drop = new DataTransfer();
                     drop.items.add(file);
                     document.querySelector('#feed').dispatchEvent(new DragEvent('dragenter', {{ bubbles: true, dataTransfer: drop }}));
                     document.querySelector('#feed').dispatchEvent(new DragEvent('drop', {{ bubbles: true, cancelable: true, dataTransfer: drop }}));
                     return file.size"
                ),
                vec![],
            )
            .await;
        let form = browser
            .wait_js("the upload form", "const f = document.querySelector('#upload-form'); return f.hidden || !document.querySelector('#upload-channel').dataset.loaded ? '' : [document.querySelector('#upload-title').value, document.querySelector('#upload-channel').value].join('|')", PAGE)
            .await;
        // Titled after the file, aimed at the channel the feed shows.
        assert_eq!(form, json!("standup-notes|team-berlin"));
        assert_eq!(browser.js("return document.querySelector('#drop-overlay').hidden", vec![]).await, json!(true));
        browser.screenshot("upload-dropped").await;
        browser.js("document.querySelector('#upload-title').value = 'Uploaded from a file'; return true", vec![]).await;

        let total = browser.js(&format!("return (await (await fetch('/api/updates/{id}/video')).blob()).size"), vec![]).await;
        let total = total.as_u64().expect("size");
        assert!(size > 0 && total > 0);
        browser.click("#upload-start").await;
        let outcome = browser.wait_js("the upload to finish", UPLOAD_STATE, PAGE).await;
        assert_eq!(outcome, json!("done"));
        let log = browser.js("return window.tusLog", vec![]).await;
        assert_eq!(log["creations"], json!(1), "one tus upload: {log}");
        let offsets: Vec<u64> = log["offsets"].as_array().expect("offsets").iter().filter_map(Value::as_u64).collect();
        assert_eq!(offsets.first(), Some(&0), "{log}");

        let href = browser.js("return document.querySelector('#upload-watch').getAttribute('href')", vec![]).await;
        uploaded = href.as_str().expect("link").trim_start_matches("/updates/").to_string();
        let (_, posted) = get_json(&server, &format!("/api/updates/{uploaded}")).await;
        assert_eq!(posted["title"], "Uploaded from a file", "{posted}");
        assert_eq!(posted["channel"]["slug"], "team-berlin", "{posted}");
        assert_eq!(posted["author"]["login"], ADMIN_LOGIN, "{posted}");
        assert_eq!(posted["size_bytes"].as_u64().unwrap_or(total), total, "every byte arrived once: {posted}");
        // Its card is on top of the feed and follows processing to the end.
        let state = browser
            .wait_js(
                "the card to reach ready",
                &format!("const c = document.querySelector('#feed .card[data-id=\"{uploaded}\"]'); return c && c.dataset.status !== 'processing' ? c.dataset.status : ''"),
                PROCESSING,
            )
            .await;
        assert_eq!(state, json!("ready"));
        browser.screenshot("upload-ready").await;
    })
    .await;

    step("7e. a four-minute file is refused while it is still uploading", async {
        let long = long_faststart_mp4(fixtures.path());
        let size = std::fs::metadata(&long).expect("fixture").len();
        let (_, before) = get_json(&server, "/api/updates").await;
        browser.goto(&server.url("/")).await;
        browser.wait_js("the feed", "return document.querySelector('#feed-loading').hidden", PAGE).await;
        browser.js(WATCH_TUS, vec![]).await;
        browser.click("#upload-open").await;
        browser.type_into("#upload-file", long.to_str().expect("path")).await;
        browser.wait_js("the upload form", "return !document.querySelector('#upload-form').hidden", PAGE).await;
        // The first chunk (1 MiB) already holds the header that gives the duration away.
        assert!(size > 2 << 20, "fixture too small to be refused mid-way: {size} bytes");
        browser.click("#upload-start").await;
        let outcome = browser.wait_js("the refusal", UPLOAD_STATE, PAGE).await;
        browser.screenshot("upload-refused").await;
        let outcome = outcome.as_str().expect("text").to_string();
        assert!(
            outcome.starts_with("failed: This file was not posted")
                && outcome.contains("4:00 long; an update can be at most 3:00"),
            "{outcome}"
        );
        let percent =
            browser.js("return parseInt(document.querySelector('#upload-percent').textContent)", vec![]).await;
        assert!(percent.as_u64().expect("percent") < 100, "refused before the upload finished, at {percent}%");
        let (_, after) = get_json(&server, "/api/updates").await;
        assert_eq!(after["updates"], before["updates"], "nothing was posted");
    })
    .await;

    step("7f. an upload whose connection drops goes on from where the server is", async {
        // Several chunks' worth (1 MiB, then 2 MiB, …), so the drop comes mid-file.
        let noisy = noisy_video(fixtures.path(), "noisy", 2.0);
        let size = std::fs::metadata(&noisy).expect("fixture").len();
        assert!(size > 4 << 20, "fixture too small for three chunks: {size} bytes");
        browser.goto(&server.url("/")).await;
        browser.wait_js("the feed", "return document.querySelector('#feed-loading').hidden", PAGE).await;
        browser.js(WATCH_TUS, vec![]).await;
        // Hold the second chunk back until the network is gone, so it goes out into a dead
        // connection and fails in the browser's network stack, as on a real drop.
        browser
            .js(
                "window.heldChunk = null;
                 let patches = 0;
                 const send = XMLHttpRequest.prototype.send;
                 XMLHttpRequest.prototype.send = function (body) {
                     if (body instanceof Blob && ++patches === 2) {
                         window.heldChunk = () => send.call(this, body);
                         return;
                     }
                     return send.call(this, body);
                 };
                 return true",
                vec![],
            )
            .await;
        browser.click("#upload-open").await;
        browser.type_into("#upload-file", noisy.to_str().expect("path")).await;
        browser.wait_js("the upload form", "return !document.querySelector('#upload-form').hidden", PAGE).await;
        browser.js("document.querySelector('#upload-title').value = 'Sent through a dropped connection'; return true", vec![]).await;
        browser.click("#upload-start").await;
        browser.wait_js("the second chunk", "return window.heldChunk !== null", PAGE).await;
        browser.network(true).await;
        browser.js("window.heldChunk(); return true", vec![]).await;
        let label = browser
            .wait_js("the retry notice", "const l = document.querySelector('#upload-label').textContent; return l.startsWith('Connection lost') ? l : ''", PAGE)
            .await;
        assert!(label.as_str().unwrap_or_default().contains("Trying again"), "{label}");
        browser.screenshot("upload-retrying").await;
        browser.network(false).await;
        let outcome = browser.wait_js("the upload to finish", UPLOAD_STATE, PAGE).await;
        assert_eq!(outcome, json!("done"));

        let log = browser.js("return window.tusLog", vec![]).await;
        assert_eq!(log["creations"], json!(1), "resumed, not started over: {log}");
        let offsets: Vec<u64> = log["offsets"].as_array().expect("offsets").iter().filter_map(Value::as_u64).collect();
        // 0, then the lost chunk at 1 MiB, then again from 1 MiB: what the server said it had.
        assert_eq!(offsets.iter().filter(|&&o| o == 0).count(), 1, "{log}");
        assert!(offsets.len() >= 3 && offsets[1] == 1 << 20 && offsets[2] == 1 << 20, "{log}");
        let href = browser.js("return document.querySelector('#upload-watch').getAttribute('href')", vec![]).await;
        let posted = href.as_str().expect("link").trim_start_matches("/updates/").to_string();
        let (_, update) = get_json(&server, &format!("/api/updates/{posted}")).await;
        assert_eq!(update["title"], "Sent through a dropped connection", "{update}");
        assert_eq!(update["size_bytes"], json!(size), "every byte arrived once: {update}");
    })
    .await;

    step("screenshots: dark and 390 px wide", async {
        for (name, path) in [("feed", "/".to_string()), ("watch", format!("/updates/{id}")), ("search", format!("/search?q={SPOKEN_WORD}")), ("record", "/record".into()), ("people", "/people".into()), ("account", "/account".into()), ("channels", "/channels".into())] {
            for (scheme, size, suffix) in [("dark", None, "dark"), ("light", Some((390, 844)), "390"), ("dark", Some((390, 844)), "390-dark")] {
                browser.color_scheme(scheme).await;
                browser.viewport(size).await;
                browser.goto(&server.url(&path)).await;
                let ready = match name {
                    "feed" => "return document.querySelectorAll('.card').length > 0",
                    "watch" => "const v = document.querySelector('#video'); return v.readyState >= 2 && document.querySelectorAll('#transcript li').length > 0",
                    "search" => "return document.querySelectorAll('.hit').length > 0",
                    "people" => "return document.querySelectorAll('#users tbody tr').length > 0 && !document.querySelector('[data-admin-only]').hidden",
                    "account" => "return document.querySelectorAll('#sessions tbody tr').length > 0",
                    "channels" => "return document.querySelectorAll('#channels tbody tr').length > 0",
                    _ => "return true",
                };
                browser.wait_js(name, ready, PAGE).await;
                let dark = browser.js("return matchMedia('(prefers-color-scheme: dark)').matches", vec![]).await;
                assert_eq!(dark, json!(scheme == "dark"));
                let overflow = browser.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await;
                assert!(overflow.as_f64().unwrap_or(0.0) <= 0.0, "{name} at {size:?} scrolls sideways by {overflow} px");
                browser.screenshot(&format!("{name}-{suffix}")).await;
            }
        }
        browser.color_scheme("light").await;
        browser.viewport(None).await;
    })
    .await;

    step("7c. its author edits the description, moves the update, then deletes it", async {
        browser.goto(&server.url(&format!("/updates/{recorded}"))).await;
        browser.wait_js("the manage controls", "return !document.querySelector('#manage').hidden && document.querySelectorAll('#move-channel option').length >= 2", PAGE).await;
        browser.click("#edit-description").await;
        browser.js("document.querySelector('#description-text').value = ''; return true", vec![]).await;
        browser.type_into("#description-text", "Edited: see https://docs.example/v2").await;
        browser.click("#description-form button[type=submit]").await;
        browser
            .wait_js("the edited description", "const d = document.querySelector('#description'); return !d.hidden && d.textContent === 'Edited: see https://docs.example/v2' && !!d.querySelector('a')", PAGE)
            .await;
        assert_eq!(get_json(&server, &format!("/api/updates/{recorded}")).await.1["description"], "Edited: see https://docs.example/v2");
        browser.js("document.querySelector('#move-channel').value = 'general'; return true", vec![]).await;
        browser.click("#move").await;
        browser.wait_js("the new channel in the header", "return [...document.querySelectorAll('#meta .channel')].some(a => a.textContent === '#General')", PAGE).await;
        let (_, moved) = get_json(&server, &format!("/api/updates/{recorded}")).await;
        assert_eq!(moved["channel"]["slug"], "general", "{moved}");
        browser.js("window.confirm = () => true; return true", vec![]).await;
        browser.click("#delete").await;
        browser.wait_js("the feed", "return location.pathname === '/'", PAGE).await;
        assert_eq!(get_json(&server, &format!("/api/updates/{recorded}")).await.0, 404);
    })
    .await;

    step("7g. the admin writes the glossary, the workspace's and a channel's own", async {
        browser.goto(&server.url("/glossary")).await;
        browser.wait_js("the glossary editor", "return !document.querySelector('#terms-form').hidden && document.querySelector('#terms-summary').textContent !== ''", PAGE).await;
        browser.type_into("#terms-text", "Zorblax\nOKR\nzorblax").await;
        browser.click("#terms-form button[type=submit]").await;
        let said = browser.wait_js("the saved glossary", "return document.querySelector('#glossary-status').textContent", PAGE).await;
        assert_eq!(said, json!("Glossary saved: 2 terms."));
        let (_, stored) = get_json(&server, "/api/glossary").await;
        assert_eq!(stored["terms"], json!(["Zorblax", "OKR"]));
        // A channel's own terms, for a channel this admin manages.
        browser.wait_js("the channel picker", "return document.querySelectorAll('#channel-pick option').length > 0", PAGE).await;
        browser.js("const p = document.querySelector('#channel-pick'); p.value = 'general'; p.dispatchEvent(new Event('change')); return true", vec![]).await;
        browser.wait_js("general's terms", "return document.querySelector('#channel-pick').dataset.loaded === 'general'", PAGE).await;
        browser.type_into("#channel-terms", "Quokka").await;
        browser.click("#channel-form button[type=submit]").await;
        browser.wait_js("the saved channel terms", "return document.querySelector('#glossary-status').textContent.startsWith('Saved: 1 term')", PAGE).await;
        let (_, general) = get_json(&server, "/api/channels/general/glossary").await;
        assert_eq!(general["terms"], json!(["Quokka"]));
        browser.screenshot("glossary").await;
    })
    .await;

    let mut invitation = String::new();
    step("8. the admin invites a teammate from the People page", async {
        browser.goto(&server.url("/people")).await;
        browser.wait_js("the people list", "return document.querySelectorAll('#users tbody tr').length === 1", PAGE).await;
        browser.click("#invite-form button[type=submit]").await;
        let url = browser
            .wait_js("the invitation link", "const b = document.querySelector('#new-invitation'); return b.hidden ? '' : document.querySelector('#new-invitation-url').textContent", PAGE)
            .await;
        invitation = url.as_str().expect("a link").to_string();
        assert!(invitation.starts_with(&server.url("/invite?code=")), "{invitation}");
        browser.wait_js("the open invitation", "return document.querySelectorAll('#invitations tbody tr[data-id]').length === 1", PAGE).await;
        browser.screenshot("people-invited").await;
    })
    .await;

    step("9. signing out closes the door again", async {
        browser.goto(&server.url("/")).await;
        browser.click(".nav-signout").await;
        browser.wait_js("the login page", "return location.pathname === '/login'", PAGE).await;
        browser.goto(&server.url(&format!("/updates/{id}"))).await;
        browser.wait_js("the login page again", "return location.pathname === '/login'", PAGE).await;
        let status = browser.js("return fetch('/api/updates').then(r => r.status)", vec![]).await;
        assert_eq!(status, json!(401));
    })
    .await;

    step("10. the teammate joins through the link and makes a token", async {
        browser.goto(&invitation).await;
        browser.type_into("#login", "teammate").await;
        browser.type_into("#display_name", "Tea Mate").await;
        browser.type_into("#password", "teammate's password").await;
        browser.click(".auth-form button[type=submit]").await;
        browser.wait_js("the feed", "return location.pathname === '/' && document.querySelector('#nav-account').textContent === 'Tea Mate'", PAGE).await;
        let people_hidden = browser.js("return document.querySelector('[data-admin-only]').hidden", vec![]).await;
        assert_eq!(people_hidden, json!(true), "a member sees no People link");
        browser.goto(&server.url("/account")).await;
        browser.wait_js("this browser's session", "return !!document.querySelector('#sessions .tag')", PAGE).await;
        browser.type_into("#token-name", "my laptop").await;
        browser.click("#token-form button[type=submit]").await;
        let token = browser
            .wait_js("the new token", "const b = document.querySelector('#new-token'); return b.hidden ? '' : document.querySelector('#new-token-value').textContent", PAGE)
            .await;
        let token = token.as_str().expect("a token").to_string();
        assert!(token.starts_with("bt_"), "{token}");
        browser.screenshot("account-token").await;
        let me: Value = crate::support::signed_in_client(&token).get(server.url("/api/me")).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["login"], "teammate");

        // The admin's private channel does not exist for the teammate.
        browser.goto(&server.url("/channels")).await;
        let seen = browser
            .wait_js("the channel list", "const rows = [...document.querySelectorAll('#channels tbody tr')]; return rows.length ? rows.map(r => r.dataset.slug).join(',') : ''", PAGE)
            .await;
        assert_eq!(seen, json!("general,team-berlin"), "no private channel for an outsider");
        browser.goto(&server.url("/?channel=reorg")).await;
        let failure = browser.wait_js("the refusal", "const e = document.querySelector('#feed-error'); return e && !e.hidden ? e.textContent : ''", PAGE).await;
        assert!(failure.as_str().unwrap_or_default().contains("not found"), "{failure}");
        // Nor is it somewhere to upload to.
        browser.goto(&server.url("/?upload")).await;
        let destinations = browser
            .wait_js("the upload panel's channels", "const o = [...document.querySelectorAll('#upload-channel option')].map(o => o.value); return document.querySelector('#upload-channel').dataset.loaded ? o.join(',') : ''", PAGE)
            .await;
        let destinations = destinations.as_str().unwrap_or_default();
        assert!(!destinations.split(',').any(|slug| slug == "reorg"), "{destinations}");
    })
    .await;

    browser.close().await;
}

/// With media presigned, the page loads the video and poster from the store's
/// own origin (a 307 away): its content security policy must allow that origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_media_plays_in_the_page() {
    let s3 = S3sFs::start();
    let server = TestServer::start_on(Some(s3.target.clone()), &[], &[("BULLETIN_S3_PRESIGN_SECS", "300")]);
    let fixtures = tempfile::tempdir().expect("fixtures");
    let video = tone_video(fixtures.path(), "presigned", 4.0, "320x240", 25);
    let (status, created) = post_update(&server, "Played from the store", &video).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("update id").to_string();
    let update = wait_until_done(&server, &id, PROCESSING).await;
    assert_eq!(update["status"], "ready", "{update}");
    let browser = Browser::start().await;

    step("presigned: the watch page plays the video from the store", async {
        sign_in_as_admin(&browser, &server, &id).await;
        browser.wait_js("the watch page", "return location.pathname.startsWith('/updates/')", PAGE).await;
        wait_video_ready(&browser).await;
        let source = browser.js("return document.querySelector('#video').currentSrc", vec![]).await;
        assert!(source.as_str().unwrap_or_default().ends_with(&format!("/api/updates/{id}/video")), "{source}");
        assert_plays(&browser).await;
        // The poster came from the store as well, through the same redirect.
        let poster = browser
            .wait_js(
                "the poster",
                &format!("const i = new Image(); i.src = '/api/updates/{id}/poster.jpg'; await i.decode().catch(() => {{}}); return i.naturalWidth"),
                PAGE,
            )
            .await;
        assert_eq!(poster, json!(320), "the poster loads");
        browser.screenshot("presigned-watch").await;
    })
    .await;
    browser.close().await;
}

/// An upload browsers play as it is plays on its watch page before any worker
/// has made its MP4 (none runs here), with the processing bar beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_plays_in_the_page_before_it_is_transcoded() {
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    let fixtures = tempfile::tempdir().expect("fixtures");
    let video = tone_video(fixtures.path(), "early", 4.0, "320x240", 25);
    let (status, created) = post_update(&server, "Played at once", &video).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("update id").to_string();
    let browser = Browser::start().await;

    step("the original plays while the update is processing", async {
        sign_in_as_admin(&browser, &server, &id).await;
        browser.wait_js("the watch page", "return location.pathname.startsWith('/updates/')", PAGE).await;
        wait_video_ready(&browser).await;
        let source = browser.js("return document.querySelector('#video').currentSrc", vec![]).await;
        assert!(source.as_str().unwrap_or_default().ends_with(&format!("/api/updates/{id}/original")), "{source}");
        assert_plays(&browser).await;
        let shown = browser
            .js("return [document.body.dataset.status, !document.querySelector('#processing').hidden]", vec![])
            .await;
        assert_eq!(shown, json!(["processing", true]), "still processing, and the page says so");
        browser.screenshot("original-plays").await;
    })
    .await;
    browser.close().await;
}

/// Catching up in a real browser: a teammate asked to acknowledge sees so,
/// plays the update to the end (the author then sees it seen), acknowledges,
/// and finds the player where she left it after a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_in_the_browser() {
    let server = TestServer::start();
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "bea's long password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let fixtures = tempfile::tempdir().expect("fixtures");
    let video = tone_video(fixtures.path(), "catch-up", 6.0, "320x240", 25);
    let (status, created) = post_update(&server, "Please watch this", &video).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("update id").to_string();
    let update = wait_until_done(&server, &id, PROCESSING).await;
    assert_eq!(update["status"], "ready", "{update}");
    let asks = server.url(&format!("/api/updates/{id}/acknowledgements"));
    let (status, body) =
        send(&server.client(), reqwest::Method::POST, asks.clone(), json!({ "people": ["bea"] })).await;
    assert_eq!(status, 200, "{body}");
    // An update to read rather than watch: several sentences, several lines.
    let words = "Good morning everyone. The office move is planned for the first week of March. \
                 Please pack your desks on the Friday before. The movers arrive early on Monday. \
                 Your new desk number is on the wiki page. Parking passes are at the front desk. \
                 Thank you all for your patience during the move.";
    let speech = speech_video(fixtures.path(), "to-read", words, 0.5);
    let (status, created) = post_update(&server, "The office move", &speech).await;
    assert_eq!(status, 202, "{created}");
    let to_read = created["id"].as_str().expect("update id").to_string();
    let update = wait_until_done(&server, &to_read, PROCESSING).await;
    assert!(update["word_count"].as_u64().unwrap_or(0) > 20, "{update}");
    let browser = Browser::start().await;

    step("catch-up: bea's feed shows what is new to her first, and what she is asked to acknowledge", async {
        browser.goto(&server.url("/login?next=%2F")).await;
        browser.type_into("#login", "bea").await;
        browser.type_into("#password", "bea's long password").await;
        browser.click(".auth-form button[type=submit]").await;
        let new = browser
            .wait_js("the new updates", "const s = document.querySelector('#unseen'); return s && !s.hidden && s.querySelectorAll('#unseen-list li').length === 2 ? [...s.querySelectorAll('#unseen-list li')].map((li) => li.textContent).join(' | ') : ''", PAGE)
            .await;
        let new = new.as_str().unwrap_or_default().to_string();
        assert!(new.contains("Please watch this") && new.contains("Please acknowledge"), "{new}");
        let counts = browser.js("return document.querySelector('#unseen-channels').textContent", vec![]).await;
        assert_eq!(counts, json!("#General · 2"));
        // Below them, every update, each marked.
        let all = browser
            .wait_js("the full list", "return document.querySelectorAll('#feed li.card').length === 2 && document.querySelector('#feed-error').hidden ? document.querySelectorAll('#feed li.card.is-new').length : -1", PAGE)
            .await;
        assert_eq!(all, json!(2));
        browser.screenshot("catch-up-feed").await;
        browser.goto(&server.url(&format!("/updates/{id}"))).await;
        let badge = browser
            .wait_js("the new badge", "const c = document.querySelector('#meta .chip.new'); return c ? c.textContent : ''", PAGE)
            .await;
        assert_eq!(badge, json!("New since your last visit"));
    })
    .await;

    step("catch-up: asked to acknowledge, bea plays it to the end and it counts as seen", async {
        browser.wait_js("the acknowledgement request", "const a = document.querySelector('#ack'); return a && !a.hidden ? document.querySelector('#ack-text').textContent : ''", PAGE).await;
        wait_video_ready(&browser).await;
        browser.js("const v = document.querySelector('#video'); v.muted = true; v.playbackRate = 2; v.play(); return true", vec![]).await;
        browser.wait_js("the end", "return document.querySelector('#video').ended", PAGE).await;
        let started = std::time::Instant::now();
        loop {
            let (_, audience) = get_json(&server, &format!("/api/updates/{id}/acknowledgements")).await;
            let bea = audience["people"].as_array().and_then(|p| p.iter().find(|p| p["login"] == "bea").cloned());
            if bea.as_ref().is_some_and(|b| b["seen_at"].is_string()) {
                assert_eq!(bea.unwrap()["outstanding"], true, "seen, not yet acknowledged: {audience}");
                break;
            }
            assert!(started.elapsed() < PAGE, "watching to the end never counted as seen: {audience}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        browser.screenshot("catch-up-asked").await;
    })
    .await;

    step("catch-up: bea acknowledges, and the author sees it", async {
        browser.click("#ack-button").await;
        let text = browser
            .wait_js("the acknowledgement", "const a = document.querySelector('#ack'); return a.classList.contains('done') ? document.querySelector('#ack-text').textContent : ''", PAGE)
            .await;
        assert_eq!(text, json!("You acknowledged this update."));
        let (_, audience) = get_json(&server, &format!("/api/updates/{id}/acknowledgements")).await;
        assert_eq!((audience["acknowledged"].clone(), audience["outstanding"].clone()), (json!(1), json!(0)), "{audience}");
    })
    .await;

    step("catch-up: after a reload the player is where she left it", async {
        // Somewhere in the middle, paused: the pause reports the position.
        browser.js("const v = document.querySelector('#video'); v.currentTime = 2.5; return true", vec![]).await;
        browser.wait_js("the seek", "const v = document.querySelector('#video'); return !v.seeking && Math.abs(v.currentTime - 2.5) < 0.1", PAGE).await;
        browser.js("const v = document.querySelector('#video'); v.play(); v.pause(); return true", vec![]).await;
        let bea = signed_in_client(&server.new_token("bea"));
        let started = std::time::Instant::now();
        loop {
            let url = server.url(&format!("/api/updates/{id}/progress"));
            let (_, progress) = send(&bea, reqwest::Method::GET, url, Value::Null).await;
            if progress["resume_ms"].as_u64().is_some_and(|ms| (2_000..3_500).contains(&ms)) {
                break;
            }
            assert!(started.elapsed() < PAGE, "the position never reached the server: {progress}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        browser.goto(&server.url(&format!("/updates/{id}"))).await;
        let resumed = browser
            .wait_js("the resumed position", "const v = document.querySelector('#video'); return v && v.readyState >= 1 && !v.seeking && v.currentTime > 1.5 ? v.currentTime : 0", PAGE)
            .await;
        let resumed = resumed.as_f64().unwrap_or(0.0);
        assert!((2.0..3.5).contains(&resumed), "resumed at {resumed}");
        let badge = browser.js("return document.querySelectorAll('#meta .chip.new').length", vec![]).await;
        assert_eq!(badge, json!(0), "not new any more");
    })
    .await;

    step("catch-up: bea reads the transcript through instead of watching, and it counts", async {
        browser.goto(&server.url(&format!("/updates/{to_read}"))).await;
        let lines = browser
            .wait_js("the reading view", "return document.querySelectorAll('#paragraphs span[data-line]').length", PAGE)
            .await;
        assert!(lines.as_u64().unwrap_or(0) >= 3, "{lines} lines");
        // Down the reading view a line at a time, at a reader's pace.
        browser
            .js("(async () => { for (const s of document.querySelectorAll('#paragraphs span[data-line]')) { s.scrollIntoView({ block: 'center' }); await new Promise((r) => setTimeout(r, 700)); } })(); return true", vec![])
            .await;
        let bea = signed_in_client(&server.new_token("bea"));
        let url = server.url(&format!("/api/updates/{to_read}/progress"));
        let started = std::time::Instant::now();
        loop {
            let (_, progress) = send(&bea, reqwest::Method::GET, url.clone(), Value::Null).await;
            if progress["seen"] == true {
                assert_eq!(progress["watched_ms"], 0, "read, not watched: {progress}");
                assert!(progress["read_fraction"].as_f64().unwrap_or(0.0) >= 0.8, "{progress}");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "reading it through never counted: {progress}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;

    step("catch-up: the author sees who has seen and acknowledged it", async {
        browser.cdp("Network.clearBrowserCookies", json!({})).await;
        sign_in_as_admin(&browser, &server, &id).await;
        let bea = browser
            .wait_js("who has seen it", "const s = document.querySelector('#audience-section'); const li = document.querySelector('#audience li[data-login=bea]'); return s && !s.hidden && li ? li.textContent : ''", PAGE)
            .await;
        assert!(bea.as_str().unwrap_or_default().contains("Acknowledged"), "{bea}");
        let summary = browser.js("return document.querySelector('#audience-summary').textContent", vec![]).await;
        assert_eq!(summary, json!("1 of 1 acknowledged · 1 seen"));
        browser.screenshot("catch-up-audience").await;
    })
    .await;

    step("discussion: a comment at the current moment puts a marker on the timeline that seeks there", async {
        wait_video_ready(&browser).await;
        browser.js("const v = document.querySelector('#video'); v.currentTime = 3; return true", vec![]).await;
        browser.wait_js("the seek", "const v = document.querySelector('#video'); return !v.seeking && Math.abs(v.currentTime - 3) < 0.1 && document.querySelector('#comment-at-label').textContent === 'At 0:03'", PAGE).await;
        browser.type_into("#comment-text", "At this point the chart shows March, not May?").await;
        browser.click("#comment-form button[type=submit]").await;
        let time = browser
            .wait_js("the comment", "const c = document.querySelector('#comments li.comment'); return c && c.textContent.includes('not May?') ? c.querySelector('.ts').textContent : ''", PAGE)
            .await;
        assert_eq!(time, json!("0:03"));
        browser.wait_js("the marker", "return document.querySelectorAll('.comment-strip .comment-mark').length === 1", PAGE).await;
        browser.js("const v = document.querySelector('#video'); v.currentTime = 0; return true", vec![]).await;
        browser.wait_js("back at the start", "const v = document.querySelector('#video'); return !v.seeking && v.currentTime < 0.1", PAGE).await;
        // Under the page's sticky header a marker at the viewport's top edge is covered: center it.
        browser.js("document.querySelector('#player').scrollIntoView({ block: 'center' }); return true", vec![]).await;
        browser.click(".comment-strip .comment-mark").await;
        let at = browser
            .wait_js("the marker's moment", "const v = document.querySelector('#video'); return !v.seeking && v.currentTime > 2.5 ? v.currentTime : 0", PAGE)
            .await;
        assert!((2.9..3.1).contains(&at.as_f64().unwrap_or(0.0)), "the marker seeks to its moment: {at}");
        browser.click("#reactions .reaction").await;
        let count = browser
            .wait_js("the reaction", "const r = document.querySelector('#reactions .reaction.is-mine .count'); return r ? r.textContent : ''", PAGE)
            .await;
        assert_eq!(count, json!("1"));
        browser.screenshot("discussion").await;
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        assert_eq!(update["comment_count"], 1, "{update}");
    })
    .await;

    step("discussion: a video reply recorded at that moment shows in the thread once ready", async {
        let href = browser.js("return document.querySelector('#video-reply').getAttribute('href')", vec![]).await;
        assert!(href.as_str().unwrap_or_default().contains(&format!("reply_to={id}")), "{href}");
        browser.click("#video-reply").await;
        let note = browser
            .wait_js("the reply note", "const n = document.querySelector('#reply-note'); return n && !n.hidden && n.querySelector('a') ? n.textContent : ''", PAGE)
            .await;
        assert!(note.as_str().unwrap_or_default().starts_with("Replying to Please watch this at 0:03"), "{note}");
        let hidden = browser.js("return document.querySelector('#channel-field').hidden", vec![]).await;
        assert_eq!(hidden, json!(true), "a reply goes to its update's channel");
        browser.click("#enable").await;
        browser.wait_js("the live preview", "return document.querySelector('#recorder').dataset.state === 'live' && document.querySelector('#live').videoWidth > 0", PAGE).await;
        browser.click("#start").await;
        browser.wait_js("recording", "return document.querySelector('#recorder').dataset.state === 'recording'", PAGE).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        browser.click("#stop").await;
        browser.wait_js("the recorded preview", "return document.querySelector('#recorder').dataset.state === 'recorded'", PAGE).await;
        let title = browser.js("return document.querySelector('#title').value", vec![]).await;
        assert_eq!(title, json!("Re: Please watch this"));
        browser.click("#post").await;
        let state = browser
            .wait_js("the reply's processing", "const s = document.querySelector('#recorder').dataset.state; return ['ready', 'failed'].includes(s) ? s : ''", PROCESSING)
            .await;
        assert_eq!(state, json!("ready"));
        browser.goto(&server.url(&format!("/updates/{id}"))).await;
        let reply = browser
            .wait_js("the reply in the thread", "const r = document.querySelector('#comments li.video-reply'); return r ? r.textContent : ''", PAGE)
            .await;
        let reply = reply.as_str().unwrap_or_default().to_string();
        assert!(reply.contains("0:03") && reply.contains("Re: Please watch this") && reply.contains("Video reply"), "{reply}");
        browser.screenshot("discussion-video-reply").await;
    })
    .await;
    browser.close().await;
}

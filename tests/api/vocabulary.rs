//! The workspace glossary steers whisper; a hand-corrected transcript line
//! reaches the transcript, the captions and search. Real binary, real model.

use std::path::Path;
use std::time::Duration;

use crate::support::*;
use serde_json::{json, Value};

/// A made-up product name whisper cannot know how to spell.
const PRODUCT: &str = "Zorblax";
const LAUNCH: &str = "Next week we launch Zorblax to every customer in Europe.";

async fn put_json(server: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let response = server.client().put(server.url(path)).json(body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn patch_line(server: &TestServer, id: &str, index: &str, body: &str) -> (u16, Value) {
    let response = server
        .client()
        .patch(server.url(&format!("/api/updates/{id}/transcript/segments/{index}")))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Post `video`, wait until it is ready, return its id and transcript text.
async fn transcribe(server: &TestServer, title: &str, video: &Path) -> (String, String) {
    let (status, accepted) = post_update(server, title, video).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();
    let update = wait_until_done(server, &id, Duration::from_secs(180)).await;
    assert_eq!(update["status"], "ready", "{update}");
    (id.clone(), transcript_text(server, &id).await)
}

async fn transcript_text(server: &TestServer, id: &str) -> String {
    let (status, transcript) = get_json(server, &format!("/api/updates/{id}/transcript")).await;
    assert_eq!(status, 200, "{transcript}");
    let lines: Vec<&str> =
        transcript["segments"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    lines.join(" ")
}

#[tokio::test]
async fn glossary_teaches_whisper_a_made_up_name() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "launch", LAUNCH, 1.0);

    let (id, without) = transcribe(&server, "Launch", &video).await;
    assert!(!without.contains(PRODUCT), "whisper already knew the name, so this test proves nothing: {without}");
    assert!(word_error_rate(LAUNCH, &without) <= 0.5, "the clip is not understood at all: {without}");
    // In quotes: the exact spelling, not the typo-tolerant match that finds whisper's guess.
    let (_, found) = get_json(&server, &format!("/api/search?q=%22{PRODUCT}%22")).await;
    assert_eq!(found["hits"], json!([]), "{found}");
    assert_eq!(get_json(&server, &format!("/api/updates/{id}")).await.1["glossary_version"], 0);

    let (status, stored) = put_json(&server, "/api/glossary", &json!({ "terms": [" OKR ", PRODUCT, "okr"] })).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["terms"], json!(["OKR", PRODUCT]));
    assert_eq!(get_json(&server, "/api/glossary").await.1["terms"], json!(["OKR", PRODUCT]));

    // The same update, transcribed again with the glossary: found by the right spelling only now.
    retranscribe(&server, &id, 1).await;
    let with = transcript_text(&server, &id).await;
    assert!(with.contains(PRODUCT), "the glossary did not reach whisper: {with}");
    let (_, found) = get_json(&server, &format!("/api/search?q=%22{PRODUCT}%22")).await;
    assert_eq!(found["hits"][0]["update_id"], id.as_str(), "{found}");

    // To the word: the match starts where the name is said, not where its line starts.
    let matched = &found["hits"][0]["matches"][0];
    let (start, end, word) = (matched["start_ms"].as_u64(), matched["end_ms"].as_u64(), matched["word_ms"].as_u64());
    let (start, end, word) = (start.unwrap(), end.unwrap(), word.unwrap());
    let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
    let line = transcript["segments"].as_array().unwrap().iter().find(|s| s["start_ms"] == start).cloned().unwrap();
    let said = line["words"].as_array().unwrap().iter().find(|w| w["text"].as_str().unwrap().contains(PRODUCT));
    let said = said.unwrap_or_else(|| panic!("no timed word {PRODUCT} in {line}"));
    assert_eq!(Some(word), said["start_ms"].as_u64(), "{matched} {line}");
    assert!(start < word && word < end, "the name is not the line's first word: {matched}");
}

/// A glossary far larger than whisper's prompt window: transcription gives it
/// whole terms, in the glossary's order, as many as fit, and says which; the
/// term that matters (listed first) still reaches whisper.
#[tokio::test]
async fn a_glossary_over_whisper_s_window_is_chosen_from_and_reported() {
    let server = TestServer::start();
    let mut terms = vec![PRODUCT.to_string()];
    // Names a team might have: each a few tokens, 600 of them far over 224 tokens.
    terms.extend((0..600).map(|i| format!("Project Falcon {i}")));
    let (status, stored) = put_json(&server, "/api/glossary", &json!({ "terms": terms })).await;
    assert_eq!(status, 200, "{stored}");
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "launch", LAUNCH, 1.0);
    let (id, text) = transcribe(&server, "Launch", &video).await;
    assert!(text.contains(PRODUCT), "the first term did not reach whisper: {text}");

    let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
    let used: Vec<String> = serde_json::from_value(update["glossary_terms_used"].clone()).unwrap();
    assert!(used.len() > 10 && used.len() < 100, "{} of {} terms used: {used:?}", used.len(), terms.len());
    // Whole terms, in the glossary's order: here the first ones, since all are alike.
    assert_eq!(used[..], terms[..used.len()], "{used:?}");
}

/// Have update `id` transcribed again and wait until that transcript (made
/// with glossary version `version`) is searchable.
async fn retranscribe(server: &TestServer, id: &str, version: i64) {
    let url = server.url(&format!("/api/updates/{id}/retranscribe"));
    let (status, queued) = send(&server.client(), reqwest::Method::POST, url.clone(), Value::Null).await;
    assert_eq!(status, 202, "{queued}");
    let (status, again) = send(&server.client(), reqwest::Method::POST, url, Value::Null).await;
    assert_eq!((status, again["error"]["code"].clone()), (409, json!("still_processing")), "{again}");
    let started = std::time::Instant::now();
    loop {
        let (_, update) = get_json(server, &format!("/api/updates/{id}")).await;
        let done = |stage: &str| update["stages"][stage]["state"] == "done";
        if update["glossary_version"] == version && done("transcribe") && done("index") {
            assert_eq!(update["status"], "ready", "{update}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "never transcribed again: {update}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_correction_survives_a_re_transcription_where_its_line_still_is() {
    const SCRIPT: &str = "Pineapple deliveries arrive on Monday morning. \
                          The warehouse team will count every crate before lunch.";
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "deliveries", SCRIPT, 1.0);
    let (id, _) = transcribe(&server, "Week ahead", &video).await;
    let (status, _) = patch_line(&server, &id, "0", r#"{"text": "Quokka shipments land on Tuesday."}"#).await;
    assert_eq!(status, 200);

    // Only its author or an admin has it transcribed again.
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success());
    let bea = signed_in_client(&server.new_token("bea"));
    let url = server.url(&format!("/api/updates/{id}/retranscribe"));
    let (status, refused) = send(&bea, reqwest::Method::POST, url, Value::Null).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("not_allowed_to_retranscribe")), "{refused}");

    let (status, _) = put_json(&server, "/api/glossary", &json!({ "terms": ["Quokka"] })).await;
    assert_eq!(status, 200);
    retranscribe(&server, &id, 1).await;
    let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
    let first = &transcript["segments"][0];
    assert_eq!(first["text"], "Quokka shipments land on Tuesday.", "{transcript}");
    assert_eq!(first["corrected"]["by"]["login"], ADMIN_LOGIN, "{first}");
    assert_eq!(transcript["suggestions"], json!([]), "{transcript}");
    let (_, found) = get_json(&server, "/api/search?q=quokka").await;
    assert_eq!(found["hits"][0]["update_id"], id.as_str(), "{found}");
}

#[tokio::test]
async fn a_refused_glossary_leaves_the_stored_one_alone() {
    let server = TestServer::start();
    assert_eq!(get_json(&server, "/api/glossary").await.1, json!({ "terms": [] }));
    assert_eq!(put_json(&server, "/api/glossary", &json!({ "terms": ["Zorblax"] })).await.0, 200);

    let too_many: Vec<String> = (0..1001).map(|i| format!("term{i}")).collect();
    for (body, code) in [
        (json!({ "terms": ["ok", "  "] }), "invalid_glossary"),
        (json!({ "terms": ["a\nb"] }), "invalid_glossary"),
        (json!({ "terms": too_many }), "invalid_glossary"),
        (json!({ "terms": "Zorblax" }), "malformed_body"),
        (json!({ "words": [] }), "malformed_body"),
    ] {
        let (status, error) = put_json(&server, "/api/glossary", &body).await;
        assert!(status == 400 || status == 422, "{body}: {status} {error}");
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(get_json(&server, "/api/glossary").await.1["terms"], json!(["Zorblax"]));

    // An empty list clears it.
    assert_eq!(put_json(&server, "/api/glossary", &json!({ "terms": [] })).await.0, 200);
    assert_eq!(get_json(&server, "/api/glossary").await.1["terms"], json!([]));
}

#[tokio::test]
async fn a_corrected_line_reaches_transcript_captions_and_search() {
    const SCRIPT: &str = "Pineapple deliveries arrive on Monday morning. \
                          The warehouse team will count every crate before lunch.";
    // The correction shares no word of four letters or more with the script.
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "deliveries", SCRIPT, 1.0);
    let (id, _) = transcribe(&server, "Week ahead", &video).await;

    let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
    let segments = transcript["segments"].as_array().unwrap().clone();
    let first = segments[0]["text"].as_str().unwrap().to_lowercase();
    // Whatever whisper heard: the longest word of line 0 that no other line
    // has is found now, and must not be once line 0 says something else.
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 4).map(str::to_lowercase).collect()
    };
    let others: Vec<String> = segments[1..].iter().flat_map(|s| words(s["text"].as_str().unwrap())).collect();
    let mut own: Vec<String> = words(&first).into_iter().filter(|w| !others.contains(w)).collect();
    own.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let old_word = own.first().unwrap_or_else(|| panic!("line 0 has no word of its own: {segments:?}")).clone();
    let (_, found) = get_json(&server, &format!("/api/search?q={old_word}")).await;
    assert_eq!(found["hits"][0]["update_id"], id.as_str(), "{old_word}: {found}");
    let (_, before) = get_json(&server, &format!("/api/updates/{id}")).await;

    // The answer comes once this server's index has the new words.
    let (status, line) =
        patch_line(&server, &id, "0", r#"{"text": "  Quokka shipments land on Tuesday, all seven.  "}"#).await;
    assert_eq!(status, 200, "{line}");
    assert_eq!(line["index"], 0);
    assert_eq!(line["text"], "Quokka shipments land on Tuesday, all seven.");
    assert_eq!(line["start_ms"], segments[0]["start_ms"]);
    assert_eq!(line["end_ms"], segments[0]["end_ms"]);
    // The names it brought in are offered for the glossary.
    assert_eq!(line["glossary_candidates"], json!(["Quokka", "Tuesday"]), "{line}");

    let (_, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
    assert_eq!(transcript["segments"][0]["text"], line["text"]);
    // Every word of the new text is timed within the line, in order.
    let words = transcript["segments"][0]["words"].as_array().unwrap().clone();
    let texts: Vec<&str> = words.iter().map(|w| w["text"].as_str().unwrap()).collect();
    assert_eq!(texts.join(" "), "Quokka shipments land on Tuesday, all seven.");
    let starts: Vec<i64> = words.iter().map(|w| w["start_ms"].as_i64().unwrap()).collect();
    assert!(starts.windows(2).all(|p| p[0] <= p[1]), "{words:?}");
    let (line_start, line_end) = (segments[0]["start_ms"].as_i64().unwrap(), segments[0]["end_ms"].as_i64().unwrap());
    assert!(words
        .iter()
        .all(|w| w["start_ms"].as_i64().unwrap() >= line_start && w["end_ms"].as_i64().unwrap() <= line_end));
    let corrected = &transcript["segments"][0]["corrected"];
    assert_eq!(corrected["by"]["login"], ADMIN_LOGIN, "who corrected it, and when: {corrected}");
    assert!(corrected["at"].is_string(), "{corrected}");
    let corrected = transcript_text(&server, &id).await;
    assert_eq!(transcript["segments"].as_array().unwrap().len(), segments.len());
    assert_eq!(transcript["segments"][1], segments.get(1).cloned().unwrap_or(Value::Null));
    let vtt = server.client().get(server.url(&format!("/api/updates/{id}/transcript.vtt"))).send().await.unwrap();
    assert!(vtt.text().await.unwrap().contains("\nQuokka shipments land on Tuesday, all seven.\n"));
    let srt = server.client().get(server.url(&format!("/api/updates/{id}/transcript.srt"))).send().await.unwrap();
    assert!(srt.text().await.unwrap().contains("\nQuokka shipments land on Tuesday, all seven.\n"));

    let (_, found) = get_json(&server, "/api/search?q=quokka").await;
    let hit = &found["hits"][0];
    assert_eq!(hit["update_id"], id.as_str(), "{found}");
    assert_eq!(hit["matches"][0]["start_ms"], segments[0]["start_ms"], "{found}");
    assert!(hit["matches"][0]["snippet"].as_str().unwrap().contains("<mark>Quokka</mark>"), "{found}");
    let (_, gone) = get_json(&server, &format!("/api/search?q={old_word}")).await;
    assert_eq!(gone["hits"], json!([]), "the old words are still found: {gone}");

    // The word count (reading time) follows the words.
    let (_, after) = get_json(&server, &format!("/api/updates/{id}")).await;
    let new_words = line["text"].as_str().unwrap().split_whitespace().count() as i64;
    let old_words = first.split_whitespace().count() as i64;
    assert_eq!(after["word_count"].as_i64().unwrap(), before["word_count"].as_i64().unwrap() - old_words + new_words);

    // Refused corrections change nothing.
    let missing = "0000000000000000"; // well formed, never issued
    for (update, index, body, status, code) in [
        (id.as_str(), "0", r#"{"text": "   "}"#, 422, "invalid_text"),
        (id.as_str(), "0", "{\"text\": \"two\\nlines\"}", 422, "invalid_text"),
        (id.as_str(), "0", r#"{"text": 7}"#, 400, "malformed_body"),
        (id.as_str(), "0", "not json", 400, "malformed_body"),
        (id.as_str(), "999", r#"{"text": "x"}"#, 404, "not_found"),
        (id.as_str(), "-1", r#"{"text": "x"}"#, 404, "not_found"),
        (missing, "0", r#"{"text": "x"}"#, 404, "not_found"),
    ] {
        let (got, error) = patch_line(&server, update, index, body).await;
        assert_eq!((got, error["error"]["code"].as_str()), (status, Some(code)), "{update}/{index} {body}: {error}");
    }
    // Only the author and admins correct a transcript: a member who sees it may not.
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success());
    let bea = signed_in_client(&server.new_token("bea"));
    let url = server.url(&format!("/api/updates/{id}/transcript/segments/1"));
    let (status, refused) = send(&bea, reqwest::Method::PATCH, url, json!({ "text": "Mine now" })).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("not_allowed_to_correct")), "{refused}");
    assert_eq!(transcript_text(&server, &id).await, corrected, "a refused correction changed the transcript");
}

#[tokio::test]
async fn a_declared_language_is_checked_against_the_model() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "english", "Our office opens at nine tomorrow.", 0.3);
    let bytes = std::fs::read(&video).unwrap();
    let post = |language: &str| {
        let form = reqwest::multipart::Form::new()
            .text("title", "Spoken")
            .text("language", language.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name("v.mp4"));
        server.client().post(server.url("/api/updates")).multipart(form).send()
    };
    // The test model (tiny.en) knows English only: another language is refused, not mistranscribed.
    // And forms are told so: English is the only language to offer.
    let (status, offered) = get_json(&server, "/api/languages").await;
    assert_eq!(status, 200, "{offered}");
    assert_eq!(offered, json!({ "multilingual": false, "languages": [{ "code": "en", "name": "English" }] }));
    for (language, code) in [("fr", "language_unsupported"), ("klingon", "unknown_language")] {
        let response = post(language).await.unwrap();
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
    }
    let tus = server
        .client()
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", "title U3Bva2Vu,language ZnI=")
        .send()
        .await
        .unwrap();
    assert_eq!(tus.status(), 422, "refused before a byte is sent");
    assert_eq!(get_json(&server, "/api/updates").await.1["updates"], json!([]), "nothing stored");

    let response = post(" EN ").await.unwrap();
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let done = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    assert_eq!((done["status"].clone(), done["language"].clone()), (json!("ready"), json!("en")), "{done}");
}

#[tokio::test]
async fn members_suggest_terms_and_admins_decide() {
    let server = TestServer::start();
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success());
    let bea = signed_in_client(&server.new_token("bea"));
    let admin = server.client();
    let suggestions = server.url("/api/glossary/suggestions");

    // Admins manage the glossary; a member suggests.
    let (status, refused) =
        send(&bea, reqwest::Method::PUT, server.url("/api/glossary"), json!({ "terms": ["x"] })).await;
    assert_eq!(status, 403, "{refused}");
    let (status, suggested) =
        send(&bea, reqwest::Method::POST, suggestions.clone(), json!({ "term": " Zorblax " })).await;
    assert_eq!(status, 201, "{suggested}");
    assert_eq!((suggested["term"].clone(), suggested["state"].clone()), (json!("Zorblax"), json!("pending")));
    let (status, again) = send(&bea, reqwest::Method::POST, suggestions.clone(), json!({ "term": "zorblax" })).await;
    assert_eq!((status, again["error"]["code"].clone()), (409, json!("already_suggested")), "{again}");
    let (status, empty) = send(&bea, reqwest::Method::POST, suggestions.clone(), json!({ "term": "  " })).await;
    assert_eq!((status, empty["error"]["code"].clone()), (422, json!("invalid_glossary")), "{empty}");
    let (_, pending) = send(&admin, reqwest::Method::GET, suggestions.clone(), Value::Null).await;
    assert_eq!(pending["suggestions"][0]["suggested_by"]["login"], "bea", "{pending}");

    // Only an admin decides; approved, the term joins the glossary once.
    let approve = server.url(&format!("/api/glossary/suggestions/{}/approve", suggested["id"]));
    let (status, _) = send(&bea, reqwest::Method::POST, approve.clone(), Value::Null).await;
    assert_eq!(status, 403);
    let (status, decided) = send(&admin, reqwest::Method::POST, approve.clone(), Value::Null).await;
    assert_eq!((status, decided["state"].clone()), (200, json!("approved")), "{decided}");
    assert_eq!(get_json(&server, "/api/glossary").await.1["terms"], json!(["Zorblax"]));
    let (status, again) = send(&admin, reqwest::Method::POST, approve, Value::Null).await;
    assert_eq!((status, again["error"]["code"].clone()), (409, json!("already_decided")), "{again}");
    let missing = server.url("/api/glossary/suggestions/999999/approve");
    assert_eq!(send(&admin, reqwest::Method::POST, missing, Value::Null).await.0, 404);
    let (status, known) = send(&bea, reqwest::Method::POST, suggestions.clone(), json!({ "term": "ZORBLAX" })).await;
    assert_eq!((status, known["error"]["code"].clone()), (409, json!("already_in_glossary")), "{known}");

    // Declined, nothing changes; she sees what became of hers.
    let (_, other) = send(&bea, reqwest::Method::POST, suggestions.clone(), json!({ "term": "Quuxly" })).await;
    let decline = server.url(&format!("/api/glossary/suggestions/{}/decline", other["id"]));
    let (status, decided) = send(&admin, reqwest::Method::POST, decline, Value::Null).await;
    assert_eq!((status, decided["state"].clone()), (200, json!("declined")), "{decided}");
    assert_eq!(get_json(&server, "/api/glossary").await.1["terms"], json!(["Zorblax"]));
    let (_, mine) = send(&bea, reqwest::Method::GET, suggestions, Value::Null).await;
    let states: Vec<&str> =
        mine["suggestions"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["approved", "declined"], "{mine}");
}

/// The ids of the updates a search finds, best first.
async fn found(server: &TestServer, query: &str) -> Vec<String> {
    let url = format!("/api/search?q={}", urlencode(query));
    let (status, body) = get_json(server, &url).await;
    assert_eq!(status, 200, "{query}: {body}");
    body["hits"].as_array().unwrap().iter().map(|h| h["update_id"].as_str().unwrap().to_string()).collect()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Ways of writing one thing; a transcript using any of them is found by all.
const FORMS: &[&[&str]] = &[
    &["organize", "organise"],
    &["email", "e-mail", "e mail"],
    &["follow-up", "followup", "follow up"],
    &["ten", "10"],
    &["second", "2nd"],
];
const ERRANDS: &str = "Please organize the follow-up email for the ten new customers before the second meeting.";

/// Which of `forms` the text uses (hyphens and spaces alike, as search reads them).
fn form_in(text: &str, forms: &[&str]) -> Option<usize> {
    let words = |s: &str| {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let said = words(text);
    forms.iter().position(|form| {
        let form = words(form);
        said.windows(form.len()).any(|w| w == form.as_slice())
    })
}

/// Compounds, numbers and spellings match each other both ways: a real
/// transcript in whisper's wording is found by every other way of writing each
/// thing; corrected into other wordings it still is; and the update that uses
/// the very word typed ranks first.
#[tokio::test]
async fn search_finds_the_word_however_it_was_written() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "errands", ERRANDS, 0.5);
    let (spoken, text) = transcribe(&server, "Errands", &video).await;
    let (other, _) = transcribe(&server, "Errands again", &video).await;

    let mut whisper_forms = Vec::new();
    for forms in FORMS {
        let Some(used) = form_in(&text, forms) else {
            panic!("whisper wrote none of {forms:?}, so this proves nothing: {text}");
        };
        whisper_forms.push(used);
        for query in forms.iter() {
            let hits = found(&server, query).await;
            assert!(hits.contains(&spoken), "{query:?} did not find {:?} in {text:?}: {hits:?}", forms[used]);
        }
    }

    // One of them corrected, line by line, into the other way of writing each thing.
    let (_, transcript) = get_json(&server, &format!("/api/updates/{other}/transcript")).await;
    let mut corrected_text = String::new();
    for (index, segment) in transcript["segments"].as_array().unwrap().iter().enumerate() {
        let mut line = segment["text"].as_str().unwrap().to_string();
        for (forms, &used) in FORMS.iter().zip(&whisper_forms) {
            let other_form = forms[(used + 1) % forms.len()];
            line = replace_form(&line, forms[used], other_form);
        }
        let body = json!({ "text": line }).to_string();
        let (status, changed) = patch_line(&server, &other, &index.to_string(), &body).await;
        assert_eq!(status, 200, "{changed}");
        corrected_text.push_str(&line);
        corrected_text.push(' ');
    }
    for (forms, &used) in FORMS.iter().zip(&whisper_forms) {
        let now = form_in(&corrected_text, forms);
        assert_eq!(now, Some((used + 1) % forms.len()), "{corrected_text}");
        for query in forms.iter() {
            let hits = found(&server, query).await;
            assert!(hits.contains(&other), "{query:?} did not find the corrected {corrected_text:?}: {hits:?}");
            assert!(hits.contains(&spoken), "{query:?}: {hits:?}");
        }
        // The very word typed ranks first: whisper's form finds whisper's transcript first.
        let hits = found(&server, forms[used]).await;
        assert_eq!(hits.first(), Some(&spoken), "{:?}: {hits:?}", forms[used]);
    }
    // Unrelated words still find nothing.
    assert_eq!(found(&server, "pineapple").await, Vec::<String>::new());
}

/// `line` with `from` (matched as words, ignoring case, hyphens and spaces alike) written as `to`.
fn replace_form(line: &str, from: &str, to: &str) -> String {
    let lower = line.to_lowercase();
    for candidate in [from.to_string(), from.replace('-', " "), from.replace(' ', "-")] {
        if let Some(at) = lower.find(&candidate) {
            return format!("{}{to}{}", &line[..at], &line[at + candidate.len()..]);
        }
    }
    line.to_string()
}

/// A channel's own terms reach whisper for its updates only, before the
/// workspace's; its admins change them, others who see it only read them, and
/// for those who do not see it the channel's glossary does not exist.
#[tokio::test]
async fn a_channel_s_own_terms_reach_its_updates_only() {
    let server = TestServer::start();
    let client = server.client();
    let channels = server.url("/api/channels");
    let (status, body) = send(&client, reqwest::Method::POST, channels.clone(), json!({ "name": "Launches" })).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        send(&client, reqwest::Method::POST, channels, json!({ "name": "Board", "private": true })).await;
    assert_eq!(status, 201, "{body}");
    put_json(&server, "/api/glossary", &json!({ "terms": ["OKR"] })).await;
    let (status, stored) =
        put_json(&server, "/api/channels/launches/glossary", &json!({ "terms": [PRODUCT, " okr "] })).await;
    assert_eq!((status, stored["terms"].clone()), (200, json!([PRODUCT, "okr"])), "{stored}");

    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "launch", LAUNCH, 1.0);
    let form = reqwest::multipart::Form::new()
        .text("title", "Launch")
        .text("channel", "launches")
        .part("file", reqwest::multipart::Part::bytes(std::fs::read(&video).unwrap()).file_name("launch.mp4"));
    let response = client.post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let in_launches = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let ready = wait_until_done(&server, &in_launches, Duration::from_secs(180)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    // The channel's terms first; the workspace's "OKR" is the channel's "okr" already.
    assert_eq!(ready["glossary_terms_used"], json!([PRODUCT, "okr"]), "{ready}");
    let text = transcript_text(&server, &in_launches).await;
    assert!(text.contains(PRODUCT), "the channel's term did not reach whisper: {text}");

    let (in_general, text) = transcribe(&server, "Launch", &video).await;
    assert!(!text.contains(PRODUCT), "another channel's term reached whisper: {text}");
    let (_, general) = get_json(&server, &format!("/api/updates/{in_general}")).await;
    assert_eq!(general["glossary_terms_used"], json!(["OKR"]), "{general}");

    // A member reads an open channel's terms but does not change them; a private
    // channel's glossary does not exist for someone outside it.
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success());
    let bea = signed_in_client(&server.new_token("bea"));
    let url = server.url("/api/channels/launches/glossary");
    let (status, read) = send(&bea, reqwest::Method::GET, url.clone(), Value::Null).await;
    assert_eq!((status, read["terms"].clone()), (200, json!([PRODUCT, "okr"])));
    let (status, refused) = send(&bea, reqwest::Method::PUT, url, json!({ "terms": [] })).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("forbidden")), "{refused}");
    let url = server.url("/api/channels/board/glossary");
    let (status, hidden) = send(&bea, reqwest::Method::GET, url.clone(), Value::Null).await;
    let missing = server.url("/api/channels/no-such-channel/glossary");
    let (_, none) = send(&bea, reqwest::Method::GET, missing, Value::Null).await;
    assert_eq!((status, &hidden), (404, &none), "a private channel's glossary is as absent as a missing one");
    let (status, _) = send(&bea, reqwest::Method::PUT, url, json!({ "terms": ["x"] })).await;
    assert_eq!(status, 404);
    assert_eq!(get_json(&server, "/api/channels/launches/glossary").await.1["terms"], json!([PRODUCT, "okr"]));
}

//! `/api/languages`: what an uploader may declare as an update's spoken
//! language on this server, so forms offer only what its model transcribes.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::Caller;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new().route("/languages", get(languages))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Language {
    /// ISO 639-1, as `language` in an upload takes it.
    code: &'static str,
    /// In English, e.g. `German`.
    name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct LanguageList {
    /// Whether the model detects and transcribes languages other than English;
    /// when false, `languages` is English alone.
    multilingual: bool,
    languages: Vec<Language>,
}

/// The spoken languages an upload may declare (`language`) on this server.
#[utoipa::path(get, path = "/api/languages", tag = "updates",
    responses((status = 200, body = LanguageList)))]
pub(super) async fn languages(State(s): State<Services>, _: Caller) -> Json<LanguageList> {
    // As uploads are checked: a model that cannot be read is no reason to refuse.
    let multilingual = bulletin_workers::model::read_ggml_header(&s.config.whisper_model)
        .map_or(true, |header| header.is_multilingual());
    let languages = bulletin_workers::transcribe::known_languages()
        .into_iter()
        .filter(|(code, _)| multilingual || *code == "en")
        .map(|(code, name)| Language { code, name: capitalised(name) })
        .collect();
    Json(LanguageList { multilingual, languages })
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

//! `GET /api/openapi.json`: the API described from the handlers' own
//! annotations, so the document changes with the code it describes.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{glossary, health, media, metrics, search, session, transcripts, tus, updates};
use crate::pipeline::Services;

#[derive(OpenApi)]
#[openapi(
    info(title = "Bulletin", description = "Post, process, watch and search short video updates."),
    paths(
        updates::create_update,
        updates::list_updates,
        updates::get_update,
        media::video,
        media::poster,
        media::storyboard_image,
        media::storyboard_vtt,
        transcripts::transcript_json,
        transcripts::transcript_vtt,
        transcripts::transcript_srt,
        transcripts::edit_segment,
        search::search,
        glossary::get_glossary,
        glossary::put_glossary,
        tus::options,
        tus::create,
        tus::head,
        tus::patch,
        tus::terminate,
        session::create_session,
        session::delete_session,
        session::me,
        health::healthz,
        health::readyz,
        metrics::metrics,
    ),
    components(schemas(
        super::views::UpdateView,
        super::glossary::GlossaryBody,
        super::transcripts::LineCorrection,
        super::views::UpdatePage,
        super::session::Credentials,
        super::session::MeView,
        super::error::ErrorBody
    ))
)]
pub struct ApiDoc;

pub fn router() -> Router<Services> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}

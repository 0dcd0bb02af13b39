//! `GET /api/openapi.json`: the API described from the handlers' own
//! annotations, so the document changes with the code it describes.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{
    channels, glossary, health, me, media, metrics, people, progress, search, session, transcripts, tus, updates,
};
use crate::pipeline::Services;

#[derive(OpenApi)]
#[openapi(
    info(title = "Bulletin", description = "Post, process, watch and search short video updates."),
    paths(
        updates::create_update,
        updates::list_updates,
        updates::get_update,
        updates::change_update,
        updates::delete_update,
        media::video,
        media::poster,
        media::storyboard_image,
        media::storyboard_vtt,
        transcripts::transcript_json,
        transcripts::transcript_vtt,
        transcripts::transcript_srt,
        transcripts::edit_segment,
        progress::get_progress,
        progress::report_progress,
        progress::unseen_counts,
        progress::mark_all_seen,
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
        me::list_sessions,
        me::end_session,
        me::list_tokens,
        me::create_token,
        me::revoke,
        me::change_password,
        channels::list_channels,
        channels::create_channel,
        channels::get_channel,
        channels::change_channel,
        channels::join_channel,
        channels::list_members,
        channels::set_member,
        channels::remove_member,
        people::list_users,
        people::create_user,
        people::update_user,
        people::reset_password,
        people::list_invitations,
        people::create_invitation,
        people::withdraw_invitation,
        health::healthz,
        health::readyz,
        metrics::metrics,
    ),
    components(schemas(
        super::views::UpdateView,
        super::updates::UpdateChange,
        super::glossary::GlossaryBody,
        super::transcripts::LineCorrection,
        super::progress::ProgressReport,
        super::progress::ProgressView,
        super::progress::UnseenView,
        super::progress::UnseenChannel,
        super::progress::MarkSeen,
        super::views::UpdatePage,
        super::session::Credentials,
        super::session::MeView,
        super::me::SessionView,
        super::me::SessionList,
        super::me::TokenView,
        super::me::TokenList,
        super::me::NewToken,
        super::me::CreatedToken,
        super::me::PasswordChange,
        super::channels::ChannelView,
        super::channels::ChannelList,
        super::channels::NewChannel,
        super::channels::ChannelPatch,
        super::channels::MemberView,
        super::channels::MemberList,
        super::channels::MemberPlace,
        super::people::UserView,
        super::people::UserList,
        super::people::CreatedUser,
        super::people::NewUserBody,
        super::people::UserChange,
        super::people::PasswordReset,
        super::people::NewPassword,
        super::people::NewInvitation,
        super::people::InvitationView,
        super::people::InvitationList,
        super::error::ErrorBody
    ))
)]
pub struct ApiDoc;

pub fn router() -> Router<Services> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}

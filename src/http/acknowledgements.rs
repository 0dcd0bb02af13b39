//! Acknowledgements: an update's author (or an admin) asks named people, or
//! everyone who sees its channel, to acknowledge it; each of them does so once
//! (which also counts as seen); the author sees who has acknowledged, seen or
//! started it and who is outstanding. Nobody else sees who watched what.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::updates::visible_update;
use super::{ApiError, Caller};
use crate::channels;
use crate::clock::{now_ms, rfc3339};
use crate::db::accounts;
use crate::db::acknowledgements::{self, AudienceRow};
use crate::domain::account::LoginName;
use crate::pipeline::edits::may_edit;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/updates/{id}/acknowledgements", get(audience).post(ask))
        .route("/updates/{id}/acknowledge", post(acknowledge))
}

/// Whom to ask.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct AskBody {
    /// Login names.
    #[serde(default)]
    people: Vec<String>,
    /// Everyone who sees the update's channel.
    #[serde(default)]
    everyone: bool,
}

impl AskBody {
    /// The `acknowledge` form field or upload metadata: `everyone` and/or login
    /// names, separated by commas or spaces; `None` when it names nobody.
    pub(super) fn from_field(text: &str) -> Option<AskBody> {
        let mut body = AskBody { people: Vec::new(), everyone: false };
        for word in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()) {
            match word.trim_start_matches('@') {
                "everyone" => body.everyone = true,
                login => body.people.push(login.to_string()),
            }
        }
        (body.everyone || !body.people.is_empty()).then_some(body)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AudienceView {
    /// Everyone asked, and everyone who has started it, by login.
    people: Vec<PersonView>,
    asked: usize,
    acknowledged: usize,
    seen: usize,
    /// Asked and not acknowledged yet.
    outstanding: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct PersonView {
    login: String,
    display_name: String,
    asked: bool,
    acknowledged_at: Option<String>,
    seen_at: Option<String>,
    /// Their last progress report, if they started it.
    started_at: Option<String>,
    outstanding: bool,
}

fn audience_view(rows: Vec<AudienceRow>) -> AudienceView {
    let people: Vec<PersonView> = rows
        .into_iter()
        .map(|r| PersonView {
            asked: r.requested_at.is_some(),
            outstanding: r.requested_at.is_some() && r.acknowledged_at.is_none(),
            acknowledged_at: r.acknowledged_at.map(rfc3339),
            seen_at: r.seen_at.map(rfc3339),
            started_at: r.started_at.map(rfc3339),
            login: r.login,
            display_name: r.display_name,
        })
        .collect();
    AudienceView {
        asked: people.iter().filter(|p| p.asked).count(),
        acknowledged: people.iter().filter(|p| p.acknowledged_at.is_some()).count(),
        seen: people.iter().filter(|p| p.seen_at.is_some()).count(),
        outstanding: people.iter().filter(|p| p.outstanding).count(),
        people,
    }
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Who has acknowledged, seen or started the update, and who is outstanding (its author and admins).
#[utoipa::path(get, path = "/api/updates/{id}/acknowledgements", tag = "progress",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 200, body = AudienceView),
        (status = 403, description = "`not_allowed_to_see_audience`: only its author and admins see who watched", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub(super) async fn audience(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<AudienceView>, ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    if !may_edit(&caller.user, &row) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_allowed_to_see_audience",
            "only the update's author and admins see who has seen it",
        ));
    }
    Ok(Json(audience_view(acknowledgements::audience(&s.db, &row.id).await?)))
}

/// Ask named people, or everyone who sees the channel, to acknowledge the update.
#[utoipa::path(post, path = "/api/updates/{id}/acknowledgements", tag = "progress",
    params(("id" = String, Path, description = "update id")),
    request_body = AskBody,
    responses(
        (status = 200, body = AudienceView),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 403, description = "`not_allowed_to_ask`: only its author and admins ask", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`nobody_named`, `unknown_person`, `cannot_see` (someone who cannot see the update's channel)", body = ErrorBody),
    ))]
pub(super) async fn ask(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    body: Result<Json<AskBody>, JsonRejection>,
) -> Result<Json<AudienceView>, ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    let Json(body) = body?;
    if !may_edit(&caller.user, &row) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_allowed_to_ask",
            "only the update's author and admins ask for acknowledgements",
        ));
    }
    let channel = row.channel.as_ref().map(|c| (c.id, c.name.as_str()));
    let ids = whom_to_ask(&s, &body, channel, row.author.as_ref().map(|a| a.id)).await?;
    acknowledgements::ask(&s.db, &row.id, &ids, now_ms()).await?;
    Ok(Json(audience_view(acknowledgements::audience(&s.db, &row.id).await?)))
}

/// The people `body` names, checked: each exists and sees `channel` (id and
/// name; `None` is General), without `author`, who does not acknowledge their own update.
pub(super) async fn whom_to_ask(
    s: &Services,
    body: &AskBody,
    channel: Option<(i64, &str)>,
    author: Option<i64>,
) -> Result<Vec<i64>, ApiError> {
    if body.people.is_empty() && !body.everyone {
        return Err(refused("nobody_named", "name the people to ask, or ask everyone".into()));
    }
    let channel_id = channel.map(|(id, _)| id);
    let channel_name = channel.map_or("General", |(_, name)| name);
    let mut ids = Vec::new();
    for raw_login in &body.people {
        let unknown = || refused("unknown_person", format!("there is nobody called {raw_login}"));
        let login = LoginName::parse(raw_login).map_err(|_| unknown())?;
        let (person, _) = accounts::user_by_login(&s.db, &login).await?.ok_or_else(unknown)?;
        if person.disabled {
            return Err(unknown());
        }
        // The asker sees the channel, so saying who cannot see it tells them nothing new.
        if !channels::may_see_channel(&s.db, &person, channel_id).await? {
            return Err(refused(
                "cannot_see",
                format!("{} cannot see {channel_name}: add them to the channel first", person.login.as_str()),
            ));
        }
        ids.push(person.id);
    }
    if body.everyone {
        let everyone = match channel_id {
            Some(channel) => acknowledgements::people_who_see(&s.db, channel).await?,
            None => accounts::all_users(&s.db).await?.into_iter().filter(|u| !u.disabled).map(|u| u.id).collect(),
        };
        ids.extend(everyone);
    }
    ids.retain(|id| Some(*id) != author);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Acknowledged {
    acknowledged_at: String,
}

/// Acknowledge the update (for those asked to); it also counts as seen.
#[utoipa::path(post, path = "/api/updates/{id}/acknowledge", tag = "progress",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 200, body = Acknowledged),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`not_asked`: nobody asked this person to acknowledge it", body = ErrorBody),
    ))]
pub(super) async fn acknowledge(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Acknowledged>, ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    match acknowledgements::acknowledge(&s.db, &row.id, caller.user.id, now_ms()).await? {
        Some(at) => Ok(Json(Acknowledged { acknowledged_at: rfc3339(at) })),
        None => Err(ApiError::new(StatusCode::CONFLICT, "not_asked", "nobody asked you to acknowledge this update")),
    }
}

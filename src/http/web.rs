//! The browser app's pages and assets, embedded in the binary so one file runs Bulletin.
//!
//! Pages are plain HTML; each loads one ES module from `/assets/`. Asset URLs
//! in the pages are rewritten to carry a content version (`/assets/v<hash>/…`),
//! so assets can be cached forever while a new binary is picked up at once:
//! the modules' relative imports inherit the versioned prefix for free.

use std::sync::OnceLock;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::pipeline::Services;
use crate::search::highlight::escape_html;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/", get(|| page(Page::Feed)))
        .route("/updates/{id}", get(|| page(Page::Watch)))
        .route("/search", get(|| page(Page::Search)))
        .route("/record", get(|| page(Page::Record)))
        .route("/account", get(|| page(Page::Account)))
        .route("/people", get(|| page(Page::People)))
        .route("/channels", get(|| page(Page::Channels)))
        .route("/glossary", get(|| page(Page::Glossary)))
        .merge(super::session::page_router())
        .route("/assets/{*path}", get(asset))
}

struct Asset {
    path: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset { path: $path, bytes: include_bytes!(concat!("../../web/assets/", $path)), content_type: $content_type }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("js/account.js", JS),
    asset!("js/api.js", JS),
    asset!("js/audience.js", JS),
    asset!("js/channels.js", JS),
    asset!("js/compose.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/feed.js", JS),
    asset!("js/format.js", JS),
    asset!("js/glossary.js", JS),
    asset!("js/nav.js", JS),
    asset!("js/people.js", JS),
    asset!("js/player.js", JS),
    asset!("js/progress.js", JS),
    asset!("js/record.js", JS),
    asset!("js/search.js", JS),
    asset!("js/stages.js", JS),
    asset!("js/thread.js", JS),
    asset!("js/storyboard.js", JS),
    asset!("js/ticker.js", JS),
    asset!("js/transcript.js", JS),
    asset!("js/tus.js", JS),
    asset!("js/uploader.js", JS),
    asset!("js/watch.js", JS),
];

#[derive(Clone, Copy)]
enum Page {
    Feed,
    Watch,
    Search,
    Record,
    Login,
    Join,
    Account,
    People,
    Channels,
    Glossary,
}

/// The frame every page shares (head, header, navigation), with `{{…}}` slots.
const LAYOUT: &str = include_str!("../../web/layout.html");

/// One page: its `<main>` and what the frame around it says.
struct PageSource {
    /// `data-page` on `<body>`, and the navigation entry marked current (if any).
    name: &'static str,
    title: &'static str,
    /// Its ES module under `/assets/js/`, if it has one.
    script: Option<&'static str>,
    /// Whether the frame shows the main navigation (not to someone signed out).
    nav: bool,
    main: &'static str,
}

/// In [`Page`] order.
const PAGES: [PageSource; 10] = [
    PageSource {
        name: "feed",
        title: "Bulletin · Updates",
        script: Some("feed.js"),
        nav: true,
        main: include_str!("../../web/feed.html"),
    },
    PageSource {
        name: "watch",
        title: "Watch · Bulletin",
        script: Some("watch.js"),
        nav: true,
        main: include_str!("../../web/watch.html"),
    },
    PageSource {
        name: "search",
        title: "Search · Bulletin",
        script: Some("search.js"),
        nav: true,
        main: include_str!("../../web/search.html"),
    },
    PageSource {
        name: "record",
        title: "Record · Bulletin",
        script: Some("record.js"),
        nav: true,
        main: include_str!("../../web/record.html"),
    },
    PageSource {
        name: "login",
        title: "Sign in · Bulletin",
        script: None,
        nav: false,
        main: include_str!("../../web/login.html"),
    },
    PageSource {
        name: "join",
        title: "Join · Bulletin",
        script: None,
        nav: false,
        main: include_str!("../../web/join.html"),
    },
    PageSource {
        name: "account",
        title: "Account · Bulletin",
        script: Some("account.js"),
        nav: true,
        main: include_str!("../../web/account.html"),
    },
    PageSource {
        name: "people",
        title: "People · Bulletin",
        script: Some("people.js"),
        nav: true,
        main: include_str!("../../web/people.html"),
    },
    PageSource {
        name: "channels",
        title: "Channels · Bulletin",
        script: Some("channels.js"),
        nav: true,
        main: include_str!("../../web/channels.html"),
    },
    PageSource {
        name: "glossary",
        title: "Glossary · Bulletin",
        script: Some("glossary.js"),
        nav: true,
        main: include_str!("../../web/glossary.html"),
    },
];

const NAV: [&str; 7] = ["feed", "search", "channels", "glossary", "record", "people", "account"];

/// The page in its frame.
fn compose(page: &PageSource) -> String {
    let script = page
        .script
        .map(|script| format!("<script type=\"module\" src=\"/assets/js/{script}\"></script>\n"))
        .unwrap_or_default();
    let mut html =
        LAYOUT.replace("{{title}}", page.title).replace("{{script}}", &script).replace("{{page}}", page.name);
    if !page.nav {
        if let (Some(start), Some(end)) = (html.find("    <nav "), html.find("</nav>\n")) {
            html.replace_range(start..end + "</nav>\n".len(), "");
        }
    }
    for entry in NAV {
        let current = if entry == page.name { " aria-current=\"page\"" } else { "" };
        html = html.replace(&format!("{{{{current:{entry}}}}}"), current);
    }
    html.replace("{{main}}", page.main.trim_end())
}

/// Scripts, styles, media and API calls all come from this origin; no inline
/// script or style; never framed.
/// The pages' policy. `store` is where presigned media URLs lead (video, posters,
/// sprites, and what the page fetches itself), when the store hands those out.
fn content_security_policy(store: Option<&str>) -> String {
    let store = store.map(|origin| format!(" {origin}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'{store} data: blob:; \
         media-src 'self'{store} blob:; connect-src 'self'{store}; worker-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Pages are rendered without the services at hand; this widens their policy
/// once they are, when media is served from the store's own origin.
pub(super) async fn allow_store_origin(State(services): State<Services>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(origin) = services.store.read_origin() {
        if response.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
            let policy = super::header_value(&content_security_policy(Some(origin)));
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}

/// A short hash of every embedded asset (FNV-1a): changes whenever one does.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for asset in ASSETS {
            for byte in asset.path.as_bytes().iter().chain(asset.bytes) {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("v{:012x}", hash >> 16)
    })
}

fn rendered(page: Page) -> &'static str {
    static RENDERED: OnceLock<Vec<String>> = OnceLock::new();
    let pages = RENDERED.get_or_init(|| {
        let prefix = format!("\"/assets/{}/", version());
        PAGES.iter().map(|page| compose(page).replace("\"/assets/", &prefix)).collect()
    });
    &pages[page as usize]
}

async fn page(page: Page) -> Response {
    with_page_headers(rendered(page).into_response())
}

/// The login page, with what the person typed and why it did not work.
pub(super) fn login_page(status: StatusCode, error: Option<&str>, login: &str, next: &str) -> Response {
    let error = error_paragraph(error);
    let (focus_login, focus_password) = if login.is_empty() { ("autofocus", "") } else { ("", "autofocus") };
    let html = rendered(Page::Login)
        .replace("{{error}}", &error)
        .replace("{{next}}", &escape_html(next))
        .replace("{{login}}", &escape_html(login))
        .replace("{{focus:login}}", focus_login)
        .replace("{{focus:password}}", focus_password);
    let mut response = with_page_headers(html.into_response());
    *response.status_mut() = status;
    response
}

/// What a page that creates one's own account says: the first admin's
/// (setup) or an invited person's.
pub(super) struct JoinPage {
    pub heading: &'static str,
    pub lede: &'static str,
    /// Where the form posts.
    pub action: &'static str,
    pub button: &'static str,
}

/// A page that creates one's own account, with what the person typed and why it did not work.
pub(super) fn join_page(
    status: StatusCode,
    page: &JoinPage,
    error: Option<&str>,
    code: &str,
    login: &str,
    name: &str,
) -> Response {
    let html = rendered(Page::Join)
        .replace("{{heading}}", page.heading)
        .replace("{{lede}}", page.lede)
        .replace("{{action}}", page.action)
        .replace("{{button}}", page.button)
        .replace("{{error}}", &error_paragraph(error))
        .replace("{{code}}", &escape_html(code))
        .replace("{{login}}", &escape_html(login))
        .replace("{{display_name}}", &escape_html(name));
    let mut response = with_page_headers(html.into_response());
    *response.status_mut() = status;
    response
}

fn error_paragraph(error: Option<&str>) -> String {
    error.map(|e| format!("<p class=\"auth-error\" role=\"alert\">{}</p>", escape_html(e))).unwrap_or_default()
}

fn with_page_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_SECURITY_POLICY, super::header_value(&content_security_policy(None)));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // Lets the record page ask for the camera, microphone and screen.
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(self), display-capture=(self)"),
    );
    response
}

/// `/assets/v<hash>/path` is immutable; any other prefix (none, or an old
/// version still cached in a page) gets today's bytes and must be revalidated.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let (current, rest) = match path.split_once('/') {
        Some((first, rest)) if first.starts_with('v') && first.len() == version().len() => (first == version(), rest),
        _ => (false, path.as_str()),
    };
    let Some(asset) = ASSETS.iter().find(|a| a.path == rest) else {
        return (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-cache")], "no such asset").into_response();
    };
    let etag = format!("\"{}\"", version());
    let cache = if current { "public, max-age=31536000, immutable" } else { "no-cache" };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if matches { StatusCode::NOT_MODIFIED.into_response() } else { asset.bytes.into_response() };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_a_page_or_module_names_is_embedded() {
        let embedded: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        let mut referenced = Vec::new();
        for html in PAGES.iter().map(compose) {
            for part in html.split("\"/assets/").skip(1) {
                referenced.push(part.split('"').next().unwrap_or_default().to_string());
            }
        }
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(asset.bytes).expect("utf-8 module");
            for part in text.split("'./").skip(1) {
                let name = part.split('\'').next().unwrap_or_default();
                if name.ends_with(".js") {
                    referenced.push(format!("js/{name}"));
                }
            }
        }
        assert!(referenced.len() > 10, "{referenced:?}");
        for path in referenced {
            assert!(embedded.contains(&path.as_str()), "{path} is referenced but not embedded");
        }
    }

    #[test]
    fn every_page_fills_every_slot_of_the_frame() {
        for page in [
            Page::Feed,
            Page::Watch,
            Page::Search,
            Page::Record,
            Page::Login,
            Page::Join,
            Page::Account,
            Page::People,
            Page::Channels,
        ] {
            let html = rendered(page);
            let slots = match page {
                Page::Login => 5,
                Page::Join => 8,
                _ => 0,
            };
            assert_eq!(html.matches("{{").count(), slots, "{html}");
            assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"), "{html}");
            assert_eq!(html.matches("<main").count(), 1, "{html}");
        }
        let search = rendered(Page::Search);
        assert!(search.contains("<body data-page=\"search\">"), "{search}");
        assert!(search.contains("<a href=\"/search\" aria-current=\"page\">Search</a>"), "{search}");
        assert_eq!(search.matches("aria-current").count(), 1, "{search}");
        assert_eq!(rendered(Page::Watch).matches("aria-current").count(), 0, "no menu entry is the watch page");
        assert!(search.contains("action=\"/logout\""), "{search}");
        let login = rendered(Page::Login);
        assert!(!login.contains("<nav") && !login.contains("<script"), "{login}");
    }

    #[tokio::test]
    async fn the_login_page_keeps_what_was_typed_and_escapes_it() {
        let html = login_page(StatusCode::UNAUTHORIZED, Some("wrong <b>"), "ada\"><x", "/search?q=1&r=2");
        assert_eq!(html.status(), StatusCode::UNAUTHORIZED);
        let body = axum::body::to_bytes(html.into_body(), 1 << 20).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("wrong &lt;b&gt;") && !body.contains("{{"), "{body}");
        assert!(body.contains("value=\"ada&quot;&gt;&lt;x\""), "{body}");
        assert!(body.contains("value=\"/search?q=1&amp;r=2\""), "{body}");
    }

    #[test]
    fn pages_point_at_versioned_assets() {
        let html = rendered(Page::Watch);
        assert!(html.contains(&format!("/assets/{}/js/watch.js", version())), "{html}");
        assert!(!html.contains("\"/assets/js/"));
    }
}

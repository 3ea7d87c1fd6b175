//! `GET /agreements/{version}`: the agreement text as a download, the current version or a
//! kept earlier one (`App::agreement_version`); any other version is the HTML 404 page.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use refshare_app::{App, AppError};

use super::layout::error_page;
use super::PagePath;

/// The path of a version's download.
pub fn download_path(version: &str) -> String {
    format!("/agreements/{version}")
}

pub async fn download(State(app): State<App>, PagePath(version): PagePath) -> Response {
    let Some(a) = app.agreement_version(&version) else { return error_page(AppError::NotFound("agreement")) };
    // The version is letters, digits, `.`, `_` and `-` (`refshare_app::agreement`): safe in
    // the quoted file name.
    let disposition = format!("attachment; filename=\"{}.txt\"", a.version());
    ([(CONTENT_TYPE, "text/plain; charset=utf-8".to_string()), (CONTENT_DISPOSITION, disposition)], a.file_text().to_string())
        .into_response()
}

//! Hosted, partner-branded client pages: onboarding with SDCA signing and link-request
//! approval. Plain HTML forms that work without JavaScript; every form carries a CSRF
//! token bound to its page.

mod approval;
mod layout;
mod onboarding;

use axum::routing::get;
use axum::Router;
use refshare_app::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/onboarding/{link_id}", get(onboarding::show).post(onboarding::sign))
        .route("/link-requests/{token}", get(approval::show).post(approval::decide))
}

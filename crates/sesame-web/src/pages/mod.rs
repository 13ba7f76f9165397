//! Browser pages under `/{tenant}/…`: sign-in, sign-out and the signed-in landing page.

mod cookies;
mod login;

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    login::routes()
}

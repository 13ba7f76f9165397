//! The admin REST API, `/api/v1`: bearer admin tokens, JSON in, JSON or problem+json out.
//!
//! `{tenant}` accepts the tenant id, its initial domain or a verified domain; `{user}` accepts a
//! user id or a UPN. A token limited to one tenant gets 403 for every other tenant.

mod apps;
mod directory;
mod extract;
mod federation;
mod groups;
mod guests;
pub mod openapi;
mod provisioning;
mod saml;
mod scim_tokens;
mod signins;
mod users;

use crate::AppState;
use axum::Router;
use axum::routing::{delete, get, post, put};
pub use extract::{Admin, ApiJson, ListParams, ListResponse};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route(
            "/tokens",
            get(signins::list_tokens).post(signins::create_token),
        )
        .route("/tokens/{id}", delete(signins::delete_token))
        .route(
            "/tenants",
            get(directory::list_tenants).post(directory::create_tenant),
        )
        .route(
            "/tenants/{tenant}",
            get(directory::get_tenant)
                .patch(directory::update_tenant)
                .delete(directory::delete_tenant),
        )
        .route(
            "/tenants/{tenant}/domains",
            get(directory::list_domains).post(directory::add_domain),
        )
        .route(
            "/tenants/{tenant}/domains/{domain}",
            get(directory::get_domain).delete(directory::delete_domain),
        )
        .route(
            "/tenants/{tenant}/domains/{domain}/federation",
            get(federation::get_federation)
                .put(federation::put_federation)
                .delete(federation::delete_federation),
        )
        .route(
            "/tenants/{tenant}/directfederations",
            get(guests::list_direct),
        )
        .route(
            "/tenants/{tenant}/directfederations/{domain}",
            get(guests::get_direct)
                .put(guests::put_direct)
                .delete(guests::delete_direct),
        )
        .route(
            "/tenants/{tenant}/guests",
            get(guests::list).post(guests::invite),
        )
        .route(
            "/tenants/{tenant}/domains/{domain}/federation/inspect",
            post(federation::inspect),
        )
        .route(
            "/tenants/{tenant}/domains/{domain}/verify",
            post(directory::verify_domain),
        )
        .route(
            "/tenants/{tenant}/users",
            get(users::list).post(users::create),
        )
        .route(
            "/tenants/{tenant}/users/{user}",
            get(users::get).patch(users::update).delete(users::remove),
        )
        .route(
            "/tenants/{tenant}/users/{user}/password",
            put(users::set_password),
        )
        .route("/tenants/{tenant}/users/{user}/groups", get(users::groups))
        .route(
            "/tenants/{tenant}/groups",
            get(groups::list).post(groups::create),
        )
        .route(
            "/tenants/{tenant}/groups/{group}",
            get(groups::get)
                .patch(groups::update)
                .delete(groups::remove),
        )
        .route(
            "/tenants/{tenant}/groups/{group}/members",
            get(groups::members).post(groups::add_member),
        )
        .route(
            "/tenants/{tenant}/groups/{group}/members/{user}",
            delete(groups::remove_member),
        )
        .route("/tenants/{tenant}/apps", get(apps::list).post(apps::create))
        .route("/tenants/{tenant}/apps/saml", post(saml::create))
        .route(
            "/tenants/{tenant}/apps/{app}/saml",
            get(saml::get).put(saml::put),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/saml/certificates",
            get(saml::certificates).post(saml::add_certificate),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/saml/certificates/{id}/activate",
            post(saml::activate_certificate),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/saml/certificates/{id}",
            delete(saml::remove_certificate),
        )
        .route(
            "/tenants/{tenant}/apps/{app}",
            get(apps::get).patch(apps::update).delete(apps::remove),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/assignments",
            get(apps::assignments).post(apps::assign),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/assignments/{principal_type}/{principal_id}",
            delete(apps::unassign),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/provisioning",
            get(provisioning::get)
                .put(provisioning::put)
                .delete(provisioning::remove),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/provisioning/test",
            post(provisioning::test),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/provisioning/logs",
            get(provisioning::logs),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/provisioning/users/{user}",
            post(provisioning::run_user),
        )
        .route(
            "/tenants/{tenant}/apps/{app}/provisioning/{action}",
            post(provisioning::action),
        )
        .route("/tenants/{tenant}/signins", get(signins::list))
        .route(
            "/tenants/{tenant}/scim/tokens",
            get(scim_tokens::list).post(scim_tokens::create),
        )
        .route(
            "/tenants/{tenant}/scim/tokens/{id}",
            delete(scim_tokens::revoke),
        )
}

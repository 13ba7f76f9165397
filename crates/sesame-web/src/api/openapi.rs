//! The OpenAPI 3.1 document of the admin API, generated from the handlers' annotations.

use super::*;
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Sésame admin API", description = "Administer tenants, domains, users, groups, applications and the sign-in log."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        directory::list_tenants, directory::create_tenant, directory::get_tenant,
        directory::update_tenant, directory::delete_tenant,
        directory::list_domains, directory::add_domain, directory::get_domain,
        directory::delete_domain, directory::verify_domain,
        super::federation::put_federation, super::federation::get_federation,
        super::federation::delete_federation, super::federation::inspect,
        super::guests::put_direct, super::guests::get_direct, super::guests::list_direct,
        super::guests::delete_direct, super::guests::invite, super::guests::list,
        users::list, users::create, users::get, users::update, users::remove,
        users::set_password, users::groups,
        groups::list, groups::create, groups::get, groups::update, groups::remove,
        groups::members, groups::add_member, groups::remove_member,
        apps::list, apps::create, apps::get, apps::update, apps::remove,
        apps::assignments, apps::assign, apps::unassign,
        saml::create, saml::get, saml::put, saml::certificates, saml::add_certificate,
        saml::activate_certificate, saml::remove_certificate,
        signins::list, signins::list_tokens, signins::create_token, signins::delete_token,
        scim_tokens::create, scim_tokens::list, scim_tokens::revoke,
        provisioning::get, provisioning::put, provisioning::remove, provisioning::test,
        provisioning::action, provisioning::run_user, provisioning::logs,
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

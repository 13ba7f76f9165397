//! `/Users` and `/Groups` (RFC 7644 §3.3–§3.6): list, search, create, read, replace, patch,
//! delete. Both resource types share one set of functions chosen by [`Kind`].

use super::{
    ScimFailure, ScimResult, authorize, base_url, if_match, json_body, resource_response, scim_json,
};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use sesame_core::scim::{ScimListQuery, if_match_admits};
use sesame_scim::{AttributeSelection, GROUP_RESOURCE, ResourceType, ScimError, USER_RESOURCE};

#[derive(Clone, Copy)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn rt(self) -> &'static ResourceType {
        match self {
            Kind::User => &USER_RESOURCE,
            Kind::Group => &GROUP_RESOURCE,
        }
    }
}

/// The query parameters any `/Users` or `/Groups` request may carry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(flatten)]
    list: ScimListQuery,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

fn params(raw: Option<&str>) -> ScimResult<Params> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ScimError::InvalidValue(format!("malformed query string: {e}")).into())
}

fn selection(p: &Params) -> ScimResult<AttributeSelection> {
    Ok(AttributeSelection::parse(
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    )?)
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> ScimResult<Bytes> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimFailure::from(ScimError::PayloadTooLarge(format!(
                "request bodies are limited to {} bytes",
                crate::BODY_LIMIT
            )))
        } else {
            ScimFailure::from(ScimError::InvalidSyntax(e.body_text()))
        }
    })
}

/// Applies the selection to each resource of a `ListResponse`.
fn select_list(mut list: Value, rt: &ResourceType, sel: &AttributeSelection) -> Value {
    if let Some(Value::Array(items)) = list.get_mut("Resources") {
        for r in items.iter_mut() {
            *r = sel.apply(r, rt);
        }
    }
    list
}

async fn list_with(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    kind: Kind,
    p: Params,
) -> ScimResult<Response> {
    let tenant = authorize(state, headers, key).await?;
    let sel = selection(&p)?;
    let base = base_url(state, key);
    let list = match kind {
        Kind::User => state.core.scim_list_users(&tenant, &base, &p.list).await?,
        Kind::Group => state.core.scim_list_groups(&tenant, &base, &p.list).await?,
    };
    Ok(scim_json(
        StatusCode::OK,
        &select_list(list, kind.rt(), &sel),
    ))
}

async fn list(
    state: AppState,
    headers: HeaderMap,
    key: String,
    query: Option<String>,
    kind: Kind,
) -> ScimResult<Response> {
    let p = params(query.as_deref())?;
    list_with(&state, &headers, &key, kind, p).await
}

/// `POST /{Users,Groups}/.search` (RFC 7644 §3.4.3): the list parameters in a body, with
/// numbers for `startIndex`/`count` and arrays for the attribute lists.
async fn search(
    state: AppState,
    headers: HeaderMap,
    key: String,
    body: Result<Bytes, BytesRejection>,
    kind: Kind,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    let v = json_body(&headers, &body_bytes(body)?)?;
    let o = v
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax("a search request must be an object".into()))?;
    let get = |k: &str| sesame_scim::path::get_ci(o, k);
    let text = |k: &str| -> Option<String> {
        match get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        }
    };
    let p = Params {
        list: ScimListQuery {
            filter: text("filter"),
            sort_by: text("sortBy"),
            sort_order: text("sortOrder"),
            start_index: text("startIndex"),
            count: text("count"),
        },
        attributes: text("attributes"),
        excluded_attributes: text("excludedAttributes"),
    };
    list_with(&state, &headers, &key, kind, p).await
}

async fn create(
    state: AppState,
    headers: HeaderMap,
    key: String,
    query: Option<String>,
    body: Result<Bytes, BytesRejection>,
    kind: Kind,
) -> ScimResult<Response> {
    let tenant = authorize(&state, &headers, &key).await?;
    let sel = selection(&params(query.as_deref())?)?;
    let v = json_body(&headers, &body_bytes(body)?)?;
    let base = base_url(&state, &key);
    let r = match kind {
        Kind::User => state.core.scim_create_user(&tenant, &base, &v).await?,
        Kind::Group => state.core.scim_create_group(&tenant, &base, &v).await?,
    };
    Ok(resource_response(StatusCode::CREATED, &r, kind.rt(), &sel))
}

async fn get_one(
    state: AppState,
    headers: HeaderMap,
    (key, id): (String, String),
    query: Option<String>,
    kind: Kind,
) -> ScimResult<Response> {
    let tenant = authorize(&state, &headers, &key).await?;
    let sel = selection(&params(query.as_deref())?)?;
    let base = base_url(&state, &key);
    let r = match kind {
        Kind::User => state.core.scim_get_user(&tenant, &base, &id).await?,
        Kind::Group => state.core.scim_get_group(&tenant, &base, &id).await?,
    };
    // RFC 7644 §3.14: If-None-Match on a GET answers 304 when the version is unchanged.
    let version = r["meta"]["version"].as_str().and_then(|v| {
        v.trim_start_matches("W/")
            .trim_matches('"')
            .parse::<i64>()
            .ok()
    });
    if let (Some(h), Some(v)) = (
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|h| h.to_str().ok()),
        version,
    ) && if_match_admits(h, v)
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok(resource_response(StatusCode::OK, &r, kind.rt(), &sel))
}

#[derive(Clone, Copy)]
enum Write {
    Replace,
    Patch,
}

async fn write(
    state: AppState,
    headers: HeaderMap,
    (key, id): (String, String),
    query: Option<String>,
    body: Result<Bytes, BytesRejection>,
    kind: Kind,
    how: Write,
) -> ScimResult<Response> {
    let tenant = authorize(&state, &headers, &key).await?;
    let sel = selection(&params(query.as_deref())?)?;
    let v = json_body(&headers, &body_bytes(body)?)?;
    let base = base_url(&state, &key);
    let m = if_match(&headers);
    let core = &state.core;
    let r = match (kind, how) {
        (Kind::User, Write::Replace) => core.scim_replace_user(&tenant, &base, &id, &v, m).await?,
        (Kind::User, Write::Patch) => core.scim_patch_user(&tenant, &base, &id, &v, m).await?,
        (Kind::Group, Write::Replace) => {
            core.scim_replace_group(&tenant, &base, &id, &v, m).await?
        }
        (Kind::Group, Write::Patch) => core.scim_patch_group(&tenant, &base, &id, &v, m).await?,
    };
    Ok(resource_response(StatusCode::OK, &r, kind.rt(), &sel))
}

async fn remove(
    state: AppState,
    headers: HeaderMap,
    (key, id): (String, String),
    kind: Kind,
) -> ScimResult<Response> {
    let tenant = authorize(&state, &headers, &key).await?;
    let m = if_match(&headers);
    match kind {
        Kind::User => state.core.scim_delete_user(&tenant, &id, m).await?,
        Kind::Group => state.core.scim_delete_group(&tenant, &id, m).await?,
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The axum handlers of one resource type's collection and members.
macro_rules! handlers {
    ($coll:ident, $one:ident, $kind:expr) => {
        pub mod $coll {
            use super::*;

            pub async fn list(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(key): Path<String>,
                RawQuery(q): RawQuery,
            ) -> ScimResult<Response> {
                super::list(s, h, key, q, $kind).await
            }

            pub async fn search(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(key): Path<String>,
                body: Result<Bytes, BytesRejection>,
            ) -> ScimResult<Response> {
                super::search(s, h, key, body, $kind).await
            }

            pub async fn create(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(key): Path<String>,
                RawQuery(q): RawQuery,
                body: Result<Bytes, BytesRejection>,
            ) -> ScimResult<Response> {
                super::create(s, h, key, q, body, $kind).await
            }
        }

        pub mod $one {
            use super::*;

            pub async fn get(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(p): Path<(String, String)>,
                RawQuery(q): RawQuery,
            ) -> ScimResult<Response> {
                super::get_one(s, h, p, q, $kind).await
            }

            pub async fn replace(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(p): Path<(String, String)>,
                RawQuery(q): RawQuery,
                body: Result<Bytes, BytesRejection>,
            ) -> ScimResult<Response> {
                super::write(s, h, p, q, body, $kind, Write::Replace).await
            }

            pub async fn patch(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(p): Path<(String, String)>,
                RawQuery(q): RawQuery,
                body: Result<Bytes, BytesRejection>,
            ) -> ScimResult<Response> {
                super::write(s, h, p, q, body, $kind, Write::Patch).await
            }

            pub async fn remove(
                State(s): State<AppState>,
                h: HeaderMap,
                Path(p): Path<(String, String)>,
            ) -> ScimResult<Response> {
                super::remove(s, h, p, $kind).await
            }
        }
    };
}

handlers!(users, user, Kind::User);
handlers!(groups, group, Kind::Group);

//! Listing `/Users` and `/Groups` (RFC 7644 §3.4.2): filters, sorting, pagination.
//!
//! Filters are evaluated here, over the SCIM representation of each record, with the pure
//! evaluator of `sesame-scim`. The common exact lookups (`userName eq`, `id eq`) are served by
//! the store's indexes, and so are prefix searches (`userName sw`, `displayName sw`, and
//! `displayName eq`) unless they match more than [`PREFIX_CAP`] users; anything else scans
//! the tenant page by page. Attribute selection
//! (§3.9) is the web layer's, applied to each returned resource.

use super::{SCIM_DEFAULT_PAGE, SCIM_MAX_PAGE, store_err};
use crate::{Core, CoreResult};
use serde_json::Value;
use sesame_model::*;
use sesame_scim::{
    CompareOp, Filter, GROUP_RESOURCE, Page as ScimPage, ResourceType, SortSpec, USER_RESOURCE,
    USER_SCHEMA, list_response,
};
use sesame_store::{StoreError, UserLookup};

/// The query parameters of a list request, as received (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
}

/// A lookup the store answers from an index instead of a scan.
enum Direct {
    UserName(String),
    Id(String),
    /// Candidates whose field starts with the value (the filter is re-checked on them).
    Prefix(UserLookup, String),
}

/// Prefix candidates beyond which a scan is used instead.
const PREFIX_CAP: u32 = 10_000;

fn direct(filter: &Filter, rt: &ResourceType) -> Option<Direct> {
    let (path, op, value) = filter.as_simple_comparison()?;
    let s = value.as_str()?;
    let core_urn = path
        .urn
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(rt.schema.id));
    if path.sub.is_some() || !core_urn {
        return None;
    }
    let user = rt.schema.id == USER_SCHEMA;
    if op == CompareOp::Sw && user {
        if path.name.eq_ignore_ascii_case("userName") {
            return Some(Direct::Prefix(UserLookup::UserPrincipalName, s.to_string()));
        }
        if path.name.eq_ignore_ascii_case("displayName") {
            return Some(Direct::Prefix(UserLookup::DisplayName, s.to_string()));
        }
    }
    if op != CompareOp::Eq {
        return None;
    }
    if user && path.name.eq_ignore_ascii_case("displayName") {
        return Some(Direct::Prefix(UserLookup::DisplayName, s.to_string()));
    }
    if path.name.eq_ignore_ascii_case("id") {
        Some(Direct::Id(s.to_string()))
    } else if path.name.eq_ignore_ascii_case("userName") && rt.schema.id == USER_SCHEMA {
        Some(Direct::UserName(s.to_string()))
    } else {
        None
    }
}

struct Listing {
    filter: Option<Filter>,
    sort: Option<SortSpec>,
    page: ScimPage,
}

fn parse(q: &ScimListQuery, rt: &ResourceType) -> CoreResult<Listing> {
    let filter = q
        .filter
        .as_deref()
        .map(|f| Filter::parse_for(f, rt))
        .transpose()?;
    let sort = q
        .sort_by
        .as_deref()
        .map(|s| SortSpec::parse(s, q.sort_order.as_deref()))
        .transpose()?;
    let page = ScimPage::parse(
        q.start_index.as_deref(),
        q.count.as_deref(),
        SCIM_DEFAULT_PAGE,
        SCIM_MAX_PAGE,
    )?;
    Ok(Listing { filter, sort, page })
}

/// Filters, sorts and pages the candidates into a `ListResponse`.
fn respond(l: &Listing, candidates: Vec<Value>, rt: &ResourceType) -> Value {
    let mut matched: Vec<Value> = match &l.filter {
        Some(f) => candidates
            .into_iter()
            .filter(|r| f.matches(r, rt))
            .collect(),
        None => candidates,
    };
    if let Some(s) = &l.sort {
        s.sort(&mut matched, rt);
    }
    let total = matched.len();
    let items = l.page.slice(&matched).to_vec();
    list_response(items, total, l.page.start_index)
}

/// Reads every page of a keyset-paginated list.
macro_rules! scan_all {
    ($list:expr) => {{
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let req = PageRequest {
                limit: PageRequest::MAX_LIMIT,
                after,
            };
            let page = $list(&req).await?;
            all.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        all
    }};
}

impl Core {
    /// `GET /Users` (RFC 7644 §3.4.2).
    pub async fn scim_list_users(
        &self,
        tenant: &Tenant,
        base: &str,
        q: &ScimListQuery,
    ) -> CoreResult<Value> {
        let l = parse(q, &USER_RESOURCE)?;
        let found = match l.filter.as_ref().and_then(|f| direct(f, &USER_RESOURCE)) {
            Some(Direct::UserName(n)) => match normalize_upn(&n) {
                Ok(upn) => optional(self.store.find_user_by_upn(tenant.id, &upn).await)?,
                Err(_) => Vec::new(),
            },
            Some(Direct::Id(id)) => match id.parse::<UserId>() {
                Ok(id) => optional(self.store.get_user(tenant.id, id).await)?,
                Err(_) => Vec::new(),
            },
            Some(Direct::Prefix(field, prefix)) => {
                let found = self
                    .store
                    .find_users_by_prefix(tenant.id, field, &prefix, PREFIX_CAP + 1)
                    .await
                    .map_err(store_err)?;
                if found.len() > PREFIX_CAP as usize {
                    scan_all!(|p| self.store.list_users(tenant.id, p))
                } else {
                    found
                }
            }
            None => scan_all!(|p| self.store.list_users(tenant.id, p)),
        };
        let candidates = found.iter().map(|u| super::user_to_scim(u, base)).collect();
        Ok(respond(&l, candidates, &USER_RESOURCE))
    }

    /// `GET /Groups` (RFC 7644 §3.4.2).
    pub async fn scim_list_groups(
        &self,
        tenant: &Tenant,
        base: &str,
        q: &ScimListQuery,
    ) -> CoreResult<Value> {
        let l = parse(q, &GROUP_RESOURCE)?;
        let found = match l.filter.as_ref().and_then(|f| direct(f, &GROUP_RESOURCE)) {
            Some(Direct::Id(id)) => match id.parse::<GroupId>() {
                Ok(id) => optional(self.store.get_group(tenant.id, id).await)?,
                Err(_) => Vec::new(),
            },
            Some(Direct::UserName(_) | Direct::Prefix(..)) | None => {
                scan_all!(|p| self.store.list_groups(tenant.id, p))
            }
        };
        let mut candidates = Vec::with_capacity(found.len());
        for g in &found {
            candidates.push(self.group_to_scim(g, base).await?);
        }
        Ok(respond(&l, candidates, &GROUP_RESOURCE))
    }
}

/// A lookup's result as zero or one record.
fn optional<T>(r: Result<T, StoreError>) -> CoreResult<Vec<T>> {
    match r {
        Ok(x) => Ok(vec![x]),
        Err(StoreError::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(store_err(e)),
    }
}

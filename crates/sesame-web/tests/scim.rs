//! The SCIM 2.0 server through HTTP (issue 6): tokens and tenant isolation, CRUD, filters,
//! pagination, ETags, PATCH value paths, Entra ID and Okta payloads, groups, Bulk.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{ADMIN, Api, api};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Tenant {
    key: String,
    token: String,
}

struct R {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn call(
    api: &Api,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> R {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/scim+json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = api.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    R {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn tenant(api: &Api, domain: &str) -> Tenant {
    let r = api
        .json(
            "POST",
            "/api/v1/tenants",
            json!({"name": domain, "initialDomain": domain}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = api
        .json(
            "POST",
            &format!("/api/v1/tenants/{domain}/scim/tokens"),
            json!({"name": "Entra"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    Tenant {
        key: domain.to_string(),
        token: r.body["secret"].as_str().unwrap().to_string(),
    }
}

impl Tenant {
    fn url(&self, rest: &str) -> String {
        format!("/{}/scim/v2{rest}", self.key)
    }
    async fn req(&self, api: &Api, method: &str, rest: &str, body: Option<Value>) -> R {
        call(api, method, &self.url(rest), Some(&self.token), body, &[]).await
    }
    async fn user(&self, api: &Api, name: &str) -> Value {
        let r = self
            .req(api, "POST", "/Users", Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": format!("{name}@{}", self.key),
                "name": {"givenName": name, "familyName": "Test"},
                "displayName": format!("{name} Test"),
                "emails": [{"value": format!("{name}@mail.test"), "type": "work", "primary": true}],
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}

fn scim_type(r: &R) -> &str {
    r.body["scimType"].as_str().unwrap_or("")
}

#[tokio::test]
async fn tokens_and_tenant_isolation() {
    let api = api().await;
    let a = tenant(&api, "a.example").await;
    let b = tenant(&api, "b.example").await;
    let u = a.user(&api, "alice").await;
    let id = u["id"].as_str().unwrap();
    // 401: missing, unknown, malformed scheme; the body is a SCIM error.
    let r = call(&api, "GET", &a.url("/Users"), None, None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["status"], "401");
    assert_eq!(r.headers["content-type"], "application/scim+json");
    let r = call(
        &api,
        "GET",
        &a.url("/Users"),
        Some("sesame_scim_not-a-real-token-000000000000000"),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = call(&api, "GET", &a.url("/Users"), Some(ADMIN), None, &[]).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "an admin token is not a SCIM token"
    );
    // 403: A's token on B's endpoint (and on a tenant that does not exist); B's ids are 404
    // under A.
    for key in ["b.example", "nowhere.example"] {
        let r = call(
            &api,
            "GET",
            &format!("/{key}/scim/v2/Users"),
            Some(&a.token),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{key}");
    }
    let r = b.req(&api, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b.req(&api, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b
        .req(
            &api,
            "GET",
            "/Users?filter=userName%20eq%20%22alice@a.example%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 0);
    // Revoked and expired tokens are 401.
    let list = api.get("/api/v1/tenants/a.example/scim/tokens").await;
    let tid = list.body["items"][0]["id"].as_str().unwrap().to_string();
    let r = api
        .call(
            "DELETE",
            &format!("/api/v1/tenants/a.example/scim/tokens/{tid}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        a.req(&api, "GET", "/Users", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let tenant_a = api.core.resolve_tenant("a.example").await.unwrap();
    let secret = "sesame_scim_expired-token-for-the-test-0000000000";
    let past = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    api.core
        .store()
        .create_scim_token(&sesame_model::ScimToken {
            id: uuid::Uuid::now_v7(),
            tenant_id: tenant_a.id,
            name: "old".into(),
            digest: sesame_core::secrets::digest(secret),
            created_at: past - time::Duration::days(1),
            expires_at: Some(past),
        })
        .await
        .unwrap();
    let r = call(&api, "GET", &a.url("/Users"), Some(secret), None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn user_crud_mapping_and_errors() {
    let api = api().await;
    let t = tenant(&api, "c.example").await;
    let u = t.user(&api, "bob").await;
    let id = u["id"].as_str().unwrap().to_string();
    assert_eq!(u["userName"], "bob@c.example");
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["meta"]["version"], "W/\"1\"");
    assert!(
        u["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/c.example/scim/v2/Users/{id}"))
    );
    // The directory sees the mapped fields: SCIM users are directory users.
    let d = api
        .get(&format!("/api/v1/tenants/c.example/users/{id}"))
        .await;
    assert_eq!(d.body["givenName"], "bob");
    assert_eq!(d.body["mail"], "bob@mail.test");
    assert_eq!(d.body["accountEnabled"], true);
    // 409 uniqueness (userName is case-insensitive).
    let r = t
        .req(
            &api,
            "POST",
            "/Users",
            Some(json!({"userName": "BOB@c.example"})),
        )
        .await;
    assert_eq!(
        (r.status, scim_type(&r)),
        (StatusCode::CONFLICT, "uniqueness")
    );
    // 400 invalidValue: a domain the tenant has not verified; no userName.
    let r = t
        .req(
            &api,
            "POST",
            "/Users",
            Some(json!({"userName": "eve@elsewhere.example"})),
        )
        .await;
    assert_eq!(
        (r.status, scim_type(&r)),
        (StatusCode::BAD_REQUEST, "invalidValue")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("verified"));
    let r = t
        .req(&api, "POST", "/Users", Some(json!({"displayName": "x"})))
        .await;
    assert_eq!(scim_type(&r), "invalidValue");
    let r = call(
        &api,
        "POST",
        &t.url("/Users"),
        Some(&t.token),
        None,
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(
        (r.status, scim_type(&r)),
        (StatusCode::BAD_REQUEST, "invalidSyntax")
    );
    // GET with attribute selection; 404 for unknown ids, malformed or not.
    let r = t
        .req(
            &api,
            "GET",
            &format!("/Users/{id}?attributes=userName"),
            None,
        )
        .await;
    assert_eq!(r.body["userName"], "bob@c.example");
    assert!(r.body.get("emails").is_none());
    assert_eq!(r.body["id"], id.as_str());
    for bad in ["nope", "01890000-0000-7000-8000-000000000000"] {
        let r = t.req(&api, "GET", &format!("/Users/{bad}"), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // Okta-style PUT of the whole user: title kept, active false disables the account.
    let r = t
        .req(
            &api,
            "PUT",
            &format!("/Users/{id}"),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": id, "userName": "bob@c.example", "active": false, "title": "Guide",
                "name": {"givenName": "Robert", "familyName": "Test"},
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["title"], "Guide");
    assert_eq!(r.body["active"], false);
    assert!(
        r.body.get("emails").is_none(),
        "PUT replaces: emails cleared"
    );
    let d = api
        .get(&format!("/api/v1/tenants/c.example/users/{id}"))
        .await;
    assert_eq!(
        (
            d.body["accountEnabled"].clone(),
            d.body["givenName"].clone()
        ),
        (json!(false), json!("Robert"))
    );
    // An admin change shows through SCIM.
    api.json(
        "PATCH",
        &format!("/api/v1/tenants/c.example/users/{id}"),
        json!({"displayName": "Bobby"}),
    )
    .await;
    let r = t.req(&api, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(r.body["displayName"], "Bobby");
    // DELETE, then 404.
    assert_eq!(
        t.req(&api, "DELETE", &format!("/Users/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.req(&api, "GET", &format!("/Users/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Unknown endpoints are SCIM 404s; discovery answers.
    let r = t.req(&api, "GET", "/Nope", None).await;
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (StatusCode::NOT_FOUND, json!("404"))
    );
    let r = t.req(&api, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(r.body["bulk"]["supported"], true);
    assert_eq!(
        t.req(&api, "GET", "/Schemas", None).await.body["totalResults"],
        3
    );
    assert_eq!(
        t.req(&api, "GET", "/ResourceTypes/User", None).await.body["endpoint"],
        "/Users"
    );
}

#[tokio::test]
async fn etags_and_if_match() {
    let api = api().await;
    let t = tenant(&api, "e.example").await;
    let u = t.user(&api, "carol").await;
    let path = t.url(&format!("/Users/{}", u["id"].as_str().unwrap()));
    let r = call(&api, "GET", &path, Some(&t.token), None, &[]).await;
    assert_eq!(r.headers["etag"], "W/\"1\"");
    let r = call(
        &api,
        "GET",
        &path,
        Some(&t.token),
        None,
        &[("if-none-match", "W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "C"}]});
    let r = call(
        &api,
        "PATCH",
        &path,
        Some(&t.token),
        Some(patch.clone()),
        &[("if-match", "W/\"7\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = call(
        &api,
        "PATCH",
        &path,
        Some(&t.token),
        Some(patch.clone()),
        &[("if-match", "W/\"1\"")],
    )
    .await;
    assert_eq!(
        (r.status, r.headers["etag"].to_str().unwrap()),
        (StatusCode::OK, "W/\"2\"")
    );
    let r = call(
        &api,
        "DELETE",
        &path,
        Some(&t.token),
        None,
        &[("if-match", "W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = call(
        &api,
        "DELETE",
        &path,
        Some(&t.token),
        None,
        &[("if-match", "*")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn filters_sorting_and_pagination() {
    let api = api().await;
    let t = tenant(&api, "f.example").await;
    for n in ["dave", "erin", "frank", "grace", "heidi"] {
        t.user(&api, n).await;
    }
    let q = |f: &str| {
        format!(
            "/Users?filter={}",
            f.replace(' ', "%20")
                .replace('"', "%22")
                .replace('[', "%5B")
                .replace(']', "%5D")
        )
    };
    let cases: &[(&str, &[&str])] = &[
        ("userName eq \"ERIN@f.example\"", &["erin"]),
        ("userName sw \"g\"", &["grace"]),
        // Served by the display-name index, case-insensitively (caseExact false).
        ("displayName sw \"HEI\"", &["heidi"]),
        ("displayName sw \"e\"", &["erin"]),
        ("displayName eq \"FRANK test\"", &["frank"]),
        ("displayName sw \"zz\"", &[]),
        ("userName sw \"D\"", &["dave"]),
        (
            "name.givenName co \"a\" and not (userName eq \"dave@f.example\")",
            &["frank", "grace"],
        ),
        (
            "emails[type eq \"work\" and value ew \"i@mail.test\"]",
            &["heidi"],
        ),
        ("displayName pr and userName ge \"h\"", &["heidi"]),
        (
            "userName eq \"nobody@f.example\" or userName eq \"frank@f.example\"",
            &["frank"],
        ),
    ];
    for (f, want) in cases {
        let r = t
            .req(&api, "GET", &format!("{}&sortBy=userName", q(f)), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.body);
        let got: Vec<String> = r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"]["givenName"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, *want, "{f}");
    }
    let r = t.req(&api, "GET", &q("userName zz \"x\""), None).await;
    assert_eq!(
        (r.status, scim_type(&r)),
        (StatusCode::BAD_REQUEST, "invalidFilter")
    );
    let r = t.req(&api, "GET", &q("active gt true"), None).await;
    assert_eq!(scim_type(&r), "invalidFilter");
    // Pagination and descending sort, with attribute selection on each resource.
    let r = t
        .req(
            &api,
            "GET",
            "/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2&attributes=userName",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 5);
    assert_eq!(r.body["startIndex"], 2);
    assert_eq!(r.body["itemsPerPage"], 2);
    assert_eq!(
        r.body["Resources"][0],
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": r.body["Resources"][0]["id"], "userName": "grace@f.example"})
    );
    let r = t.req(&api, "GET", "/Users?count=0", None).await;
    assert_eq!(
        (
            r.body["totalResults"].clone(),
            r.body["itemsPerPage"].clone()
        ),
        (json!(5), json!(0))
    );
    let r = t.req(&api, "GET", "/Users?count=x", None).await;
    assert_eq!(scim_type(&r), "invalidValue");
    // POST /.search.
    let r = t.req(&api, "POST", "/Users/.search", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"d\"", "count": 10}))).await;
    assert_eq!(r.body["totalResults"], 1);
}

#[tokio::test]
async fn patch_value_paths_and_entra_quirks() {
    let api = api().await;
    let t = tenant(&api, "p.example").await;
    let u = t.user(&api, "ivan").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    // Entra ID: capitalised ops, "True"/"False" strings, path-less values with dotted keys,
    // manager as a bare string, value-filter paths.
    let r = t.req(&api, "PATCH", &path, Some(patch(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "value": {"name.familyName": "Petrov", "title": "Engineer"}},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ivan.petrov@mail.test"},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "E-7"},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss-1"},
    ])))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["name"]["familyName"], "Petrov");
    assert_eq!(r.body["emails"][0]["value"], "ivan.petrov@mail.test");
    let ext = &r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
    assert_eq!(
        (
            ext["employeeNumber"].clone(),
            ext["manager"]["value"].clone()
        ),
        (json!("E-7"), json!("boss-1"))
    );
    let id = u["id"].as_str().unwrap();
    let d = api
        .get(&format!("/api/v1/tenants/p.example/users/{id}"))
        .await;
    assert_eq!(d.body["surname"], "Petrov");
    assert_eq!(d.body["mail"], "ivan.petrov@mail.test");
    assert_eq!(d.body["employeeId"], "E-7");
    assert_eq!(d.body["accountEnabled"], false);
    // Remove through a value filter; errors carry scimType.
    let r = t
        .req(
            &api,
            "PATCH",
            &path,
            Some(patch(
                json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
            )),
        )
        .await;
    assert!(r.body.get("emails").is_none(), "{}", r.body);
    let r = t
        .req(
            &api,
            "PATCH",
            &path,
            Some(patch(
                json!([{"op": "replace", "path": "id", "value": "x"}]),
            )),
        )
        .await;
    assert_eq!(scim_type(&r), "mutability");
    let r = t
        .req(
            &api,
            "PATCH",
            &path,
            Some(patch(
                json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
            )),
        )
        .await;
    assert_eq!(scim_type(&r), "invalidPath");
    let r = t
        .req(
            &api,
            "PATCH",
            &path,
            Some(patch(
                json!([{"op": "replace", "path": "userName", "value": "ivan@other.example"}]),
            )),
        )
        .await;
    assert_eq!(scim_type(&r), "invalidValue");
}

#[tokio::test]
async fn groups_and_membership_patches() {
    let api = api().await;
    let t = tenant(&api, "g.example").await;
    let mut ids = Vec::new();
    for n in ["u1", "u2", "u3"] {
        ids.push(t.user(&api, n).await["id"].as_str().unwrap().to_string());
    }
    let r = t.req(&api, "POST", "/Groups", Some(json!({"displayName": "Sales", "externalId": "G-1", "members": [{"value": ids[0]}]}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["members"][0]["display"], "u1 Test");
    assert_eq!(r.body["externalId"], "G-1");
    let gpath = format!("/Groups/{}", r.body["id"].as_str().unwrap());
    let r = t
        .req(
            &api,
            "POST",
            "/Groups",
            Some(json!({"displayName": "SALES"})),
        )
        .await;
    assert_eq!(
        (r.status, scim_type(&r)),
        (StatusCode::CONFLICT, "uniqueness")
    );
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    // Entra: add members, then remove one by value filter.
    let r = t
        .req(
            &api,
            "PATCH",
            &gpath,
            Some(patch(json!([
                {"op": "Add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}]},
                {"op": "Remove", "path": format!("members[value eq \"{}\"]", ids[0])},
            ]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let members: Vec<&str> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [ids[1].as_str(), ids[2].as_str()]);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    let members_api = api
        .get(&format!(
            "/api/v1/tenants/g.example/groups/{}/members",
            r.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(members_api.body["items"].as_array().unwrap().len(), 2);
    // Unknown members are invalidValue and change nothing.
    let r = t.req(&api, "PATCH", &gpath, Some(patch(json!([{"op": "add", "path": "members", "value": [{"value": "01890000-0000-7000-8000-000000000000"}]}])))).await;
    assert_eq!(scim_type(&r), "invalidValue");
    // Okta: PUT the whole group; filter by displayName.
    let r = t
        .req(
            &api,
            "PUT",
            &gpath,
            Some(json!({"displayName": "Sales EU", "members": [{"value": ids[0]}]})),
        )
        .await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    let r = t
        .req(
            &api,
            "GET",
            "/Groups?filter=displayName%20eq%20%22sales%20eu%22&excludedAttributes=members",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("members").is_none());
    // Deleting a user removes it from the group.
    t.req(&api, "DELETE", &format!("/Users/{}", ids[0]), None)
        .await;
    assert!(
        t.req(&api, "GET", &gpath, None)
            .await
            .body
            .get("members")
            .is_none()
    );
    assert_eq!(
        t.req(&api, "DELETE", &gpath, None).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn bulk_with_bulk_ids_and_fail_on_errors() {
    let api = api().await;
    let t = tenant(&api, "b.example").await;
    let r = t.req(&api, "POST", "/Bulk", Some(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "Ops", "members": [{"value": "bulkId:u"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "kim@b.example"}},
            {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "kim@b.example"}},
        ]
    }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    let status: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["201", "201", "409"], "{}", r.body);
    assert_eq!(ops[2]["response"]["scimType"], "uniqueness");
    let g = t
        .req(
            &api,
            "GET",
            "/Groups?filter=displayName%20eq%20%22Ops%22",
            None,
        )
        .await;
    assert_eq!(
        g.body["Resources"][0]["members"].as_array().unwrap().len(),
        1
    );
    // failOnErrors: 1 stops after the first error.
    let r = t.req(&api, "POST", "/Bulk", Some(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "failOnErrors": 1,
        "Operations": [
            {"method": "DELETE", "path": "/Users/01890000-0000-7000-8000-000000000000"},
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "lee@b.example"}},
        ]
    }))).await;
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["status"], "404");
    let r = t
        .req(
            &api,
            "GET",
            "/Users?filter=userName%20eq%20%22lee@b.example%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 0);
    let r = t
        .req(&api, "POST", "/Bulk", Some(json!({"Operations": []})))
        .await;
    assert_eq!(scim_type(&r), "invalidSyntax");
}

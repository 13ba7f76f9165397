//! The admin API through the router: CRUD, pagination, scopes, problem+json for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

async fn tenant(api: &Api) -> String {
    let r = api
        .json(
            "POST",
            "/api/v1/tenants",
            json!({ "name": "Contoso", "initialDomain": "contoso.example" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

fn assert_problem(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.content_type, "application/problem+json", "{}", r.text);
    assert_eq!(r.body["code"], code, "{}", r.text);
    assert_eq!(r.body["status"], status.as_u16());
    assert!(r.body["correlationId"].is_string(), "{}", r.text);
}

#[tokio::test]
async fn tenants_users_groups_apps_crud() {
    let api = api().await;
    let t = tenant(&api).await;
    let base = "/api/v1/tenants/contoso.example";
    let r = api.json("POST", &format!("{base}/users"), json!({
        "userPrincipalName": "Alice@contoso.example", "displayName": "Alice", "givenName": "Alice",
        "surname": "Martin", "employeeId": "E1", "extensionAttributes": [null, "x2"], "password": "Correct-Horse-1"
    })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body.get("password").is_none());
    let uid = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["extensionAttributes"][1], "x2");
    assert_eq!(r.body["extensionAttributes"].as_array().unwrap().len(), 15);
    // By id, by UPN, and through the tenant id instead of the domain.
    assert_eq!(
        api.get(&format!("{base}/users/{uid}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("{base}/users/ALICE@contoso.example"))
            .await
            .body["id"],
        uid
    );
    assert_eq!(
        api.get(&format!("/api/v1/tenants/{t}/users/{uid}"))
            .await
            .status,
        StatusCode::OK
    );
    let r = api
        .json(
            "PATCH",
            &format!("{base}/users/{uid}"),
            json!({ "displayName": null, "surname": "Dupont" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["displayName"].is_null());
    assert_eq!(r.body["surname"], "Dupont");
    assert_eq!(r.body["givenName"], "Alice");
    assert_eq!(r.body["version"], 2);

    let g = api
        .json(
            "POST",
            &format!("{base}/groups"),
            json!({ "displayName": "Sales" }),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED);
    let gid = g.body["id"].as_str().unwrap().to_string();
    let m = api
        .json(
            "POST",
            &format!("{base}/groups/{gid}/members"),
            json!({ "userId": uid }),
        )
        .await;
    assert_eq!(m.status, StatusCode::NO_CONTENT, "{}", m.text);
    let again = api
        .json(
            "POST",
            &format!("{base}/groups/{gid}/members"),
            json!({ "userId": uid }),
        )
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "SESAME-1409");
    assert_eq!(
        again.body["detail"], "group member already exists",
        "{}",
        again.text
    );
    assert_eq!(
        api.get(&format!("{base}/groups/{gid}/members")).await.body["items"][0],
        uid
    );
    assert_eq!(
        api.get(&format!("{base}/users/{uid}/groups")).await.body["items"][0],
        gid
    );

    let a = api
        .json("POST", &format!("{base}/apps"), json!({ "name": "AWS" }))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let aid = a.body["id"].as_str().unwrap().to_string();
    let asg = api
        .json(
            "POST",
            &format!("{base}/apps/{aid}/assignments"),
            json!({ "principalType": "group", "principalId": gid }),
        )
        .await;
    assert_eq!(asg.status, StatusCode::CREATED, "{}", asg.text);
    assert_eq!(
        api.get(&format!("{base}/apps/{aid}/assignments"))
            .await
            .body["items"][0]["principalId"],
        gid
    );
    let del = api
        .call(
            "DELETE",
            &format!("{base}/apps/{aid}/assignments/group/{gid}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let del = api
        .call("DELETE", &format!("{base}/users/{uid}"), Some(ADMIN), None)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_problem(
        &api.get(&format!("{base}/users/{uid}")).await,
        StatusCode::NOT_FOUND,
        "SESAME-1404",
    );
    assert_eq!(
        api.get(&format!("{base}/groups/{gid}/members")).await.body["items"],
        json!([])
    );
}

#[tokio::test]
async fn pagination_follows_cursors() {
    let api = api().await;
    tenant(&api).await;
    for i in 0..25 {
        let r = api
            .json(
                "POST",
                "/api/v1/tenants/contoso.example/users",
                json!({ "userPrincipalName": format!("u{i}@contoso.example") }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut url = "/api/v1/tenants/contoso.example/users?limit=10".to_string();
    loop {
        let r = api.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 10);
        seen.extend(
            items
                .iter()
                .map(|u| u["userPrincipalName"].as_str().unwrap().to_string()),
        );
        match r.body["nextCursor"].as_str() {
            Some(c) => url = format!("/api/v1/tenants/contoso.example/users?limit=10&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let expected: Vec<String> = (0..25).map(|i| format!("u{i}@contoso.example")).collect();
    assert_eq!(seen, expected, "creation order");
    assert_problem(
        &api.get("/api/v1/tenants/contoso.example/users?limit=abc")
            .await,
        StatusCode::BAD_REQUEST,
        "SESAME-1411",
    );
}

#[tokio::test]
async fn tenant_limited_token_stays_in_its_tenant() {
    let api = api().await;
    let a = tenant(&api).await;
    let b = api
        .json(
            "POST",
            "/api/v1/tenants",
            json!({ "name": "Fabrikam", "initialDomain": "fabrikam.example" }),
        )
        .await;
    let b = b.body["id"].as_str().unwrap().to_string();
    let tok = api
        .json(
            "POST",
            "/api/v1/tokens",
            json!({ "name": "ops", "tenantId": a }),
        )
        .await;
    assert_eq!(tok.status, StatusCode::CREATED, "{}", tok.text);
    let secret = tok.body["secret"].as_str().unwrap().to_string();
    let own = api
        .call(
            "GET",
            &format!("/api/v1/tenants/{a}/users"),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    for (method, path) in [
        ("GET", format!("/api/v1/tenants/{b}")),
        ("GET", format!("/api/v1/tenants/{b}/users")),
        ("GET", "/api/v1/tenants/fabrikam.example/users".to_string()),
        (
            "GET",
            "/api/v1/tenants/does-not-exist.example/users".to_string(),
        ),
        ("DELETE", format!("/api/v1/tenants/{b}")),
        ("GET", "/api/v1/tokens".to_string()),
    ] {
        let r = api.call(method, &path, Some(&secret), None).await;
        assert_problem(&r, StatusCode::FORBIDDEN, "SESAME-1403");
    }
    let create = api
        .call(
            "POST",
            &format!("/api/v1/tenants/{b}/users"),
            Some(&secret),
            Some((
                "application/json",
                br#"{"userPrincipalName":"x@fabrikam.example"}"#.to_vec(),
            )),
        )
        .await;
    assert_problem(&create, StatusCode::FORBIDDEN, "SESAME-1403");
    let list = api
        .call("GET", "/api/v1/tenants", Some(&secret), None)
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["id"], a);
}

#[tokio::test]
async fn authentication_is_required() {
    let api = api().await;
    let r = api.call("GET", "/api/v1/tenants", None, None).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "SESAME-1401");
    let r = api
        .call(
            "GET",
            "/api/v1/tenants",
            Some("sesame_at_wrong-token-000000000000000000000"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "SESAME-1401");
}

#[tokio::test]
async fn bad_input_is_a_4xx_problem() {
    let api = api().await;
    tenant(&api).await;
    let users = "/api/v1/tenants/contoso.example/users";
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "application/json",
            b"{".to_vec(),
            StatusCode::BAD_REQUEST,
            "SESAME-1410",
        ),
        (
            "application/json",
            b"[]".to_vec(),
            StatusCode::BAD_REQUEST,
            "SESAME-1410",
        ),
        (
            "application/json",
            br#"{"userPrincipalName": 5}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "SESAME-1410",
        ),
        (
            "application/json",
            br#"{"userPrincipalName":"a@contoso.example","bogus":1}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "SESAME-1410",
        ),
        (
            "application/json",
            br#"{"userPrincipalName":"not-an-upn"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "SESAME-1400",
        ),
        (
            "application/json",
            br#"{"userPrincipalName":"a@contoso.example","immutableId":""}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "SESAME-1400",
        ),
        (
            "application/json",
            format!(
                r#"{{"userPrincipalName":"a@contoso.example","displayName":"{}"}}"#,
                "x".repeat(300)
            )
            .into_bytes(),
            StatusCode::BAD_REQUEST,
            "SESAME-1400",
        ),
        (
            "text/plain",
            br#"{"userPrincipalName":"a@contoso.example"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "SESAME-1415",
        ),
        (
            "application/json",
            vec![b' '; sesame_web::BODY_LIMIT + 10],
            StatusCode::PAYLOAD_TOO_LARGE,
            "SESAME-1413",
        ),
    ];
    for (ct, body, status, code) in cases {
        let r = api.call("POST", users, Some(ADMIN), Some((ct, body))).await;
        assert_problem(&r, status, code);
    }
    let ok = api
        .json(
            "POST",
            users,
            json!({ "userPrincipalName": "a@contoso.example" }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let dup = api
        .json(
            "POST",
            users,
            json!({ "userPrincipalName": "A@CONTOSO.EXAMPLE" }),
        )
        .await;
    assert_problem(&dup, StatusCode::CONFLICT, "SESAME-1409");
    // In words people read, not the store's rule names.
    assert_eq!(
        dup.body["detail"], "a user with this userPrincipalName already exists",
        "{}",
        dup.text
    );
    assert_problem(
        &api.get("/api/v1/tenants/contoso.example/groups/not-a-uuid")
            .await,
        StatusCode::NOT_FOUND,
        "SESAME-1404",
    );
    assert_problem(
        &api.get("/api/v1/nope").await,
        StatusCode::NOT_FOUND,
        "SESAME-1404",
    );
    let dom = api
        .json(
            "POST",
            "/api/v1/tenants/contoso.example/domains",
            json!({ "name": "bad domain" }),
        )
        .await;
    assert_problem(&dom, StatusCode::BAD_REQUEST, "SESAME-1400");
    let verify = api
        .json(
            "POST",
            "/api/v1/tenants/contoso.example/domains",
            json!({ "name": "fabrikam.example" }),
        )
        .await;
    assert_eq!(verify.status, StatusCode::CREATED);
    let v = api
        .json(
            "POST",
            "/api/v1/tenants/contoso.example/domains/fabrikam.example/verify",
            json!({}),
        )
        .await;
    assert_problem(&v, StatusCode::UNPROCESSABLE_ENTITY, "SESAME-1422");
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let api = api().await;
    let r = api.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant}/users/{user}/password",
        "/api/v1/tenants/{tenant}/domains/{domain}/verify",
        "/api/v1/tenants/{tenant}/groups/{group}/members/{user}",
        "/api/v1/tenants/{tenant}/apps/{app}/assignments",
        "/api/v1/tenants/{tenant}/signins",
        "/api/v1/tokens/{id}",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(r.body["components"]["schemas"]["User"].is_object());
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn operations_endpoints() {
    let api = api().await;
    assert_eq!(
        api.call("GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.call("GET", "/readyz", None, None).await.status,
        StatusCode::OK
    );
    let m = api.call("GET", "/metrics", None, None).await;
    assert!(
        m.text.contains(
            "sesame_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(m.text.contains("sesame_sign_ins_total{result=\"success\"}"));
}

/// Found by the random-body test: a lifetime so long its expiry date overflows the store was a
/// 503; it is a 400 now, like every other bad value.
#[tokio::test]
async fn scim_token_lifetime_is_bounded() {
    let api = api().await;
    let t = tenant(&api).await;
    let path = format!("/api/v1/tenants/{t}/scim/tokens");
    for secs in [71_091_252_504u64, u64::MAX] {
        let r = api
            .json("POST", &path, json!({ "name": "x", "expiresInSecs": secs }))
            .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "SESAME-1400");
    }
    let ok = api
        .json(
            "POST",
            &path,
            json!({ "name": "x", "expiresInSecs": 86_400 }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
}

/// The sign-in log filtered by application and by time; a `since` that is not an instant is
/// a 400 problem.
#[tokio::test]
async fn sign_ins_filter_by_application_and_time() {
    use sesame_model::{AppId, SignInEvent, SignInId, SignInResult};
    let api = api().await;
    let t = tenant(&api).await;
    let tenant_id = sesame_model::TenantId(t.parse().unwrap());
    let now = time::OffsetDateTime::now_utc();
    let app = AppId(uuid::Uuid::now_v7());
    let event = |hours_ago: i64, app_id: Option<AppId>| SignInEvent {
        id: SignInId(uuid::Uuid::now_v7()),
        tenant_id,
        at: now - time::Duration::hours(hours_ago),
        user_id: None,
        user_principal_name: "someone@contoso.example".into(),
        app_id,
        protocol: "saml".into(),
        result: SignInResult::Success,
        reason: None,
        ip: None,
        correlation_id: uuid::Uuid::now_v7().to_string(),
    };
    let (old, recent, other) = (event(48, Some(app)), event(1, Some(app)), event(1, None));
    for e in [&old, &recent, &other] {
        api.core.store().append_sign_in(e).await.unwrap();
    }
    let ids = |query: &str| {
        let api = &api;
        let path = format!("/api/v1/tenants/{t}/signins?{query}");
        async move {
            let r = api.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let id = |e: &SignInEvent| e.id.0.to_string();
    assert_eq!(
        ids(&format!("app={}", app.0)).await,
        [id(&recent), id(&old)]
    );
    // In another offset than UTC: the '+' must reach the server as it is.
    let since = (now - time::Duration::hours(2))
        .to_offset(time::macros::offset!(+1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(
        ids(&format!("since={}", since.replace('+', "%2B"))).await,
        [id(&other), id(&recent)]
    );
    assert_eq!(
        ids(&format!(
            "app={}&since={}",
            app.0,
            since.replace('+', "%2B")
        ))
        .await,
        [id(&recent)]
    );
    // Before the store's earliest instant: everything.
    assert_eq!(ids("since=1600-01-01T00:00:00Z").await.len(), 3);
    let bad = api
        .get(&format!("/api/v1/tenants/{t}/signins?since=yesterday"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.content_type, "application/problem+json");
}

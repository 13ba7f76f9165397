//! One test per rule and per client quirk.

use serde_json::{Value, json};

use super::*;
use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_RESOURCE, USER_RESOURCE, USER_SCHEMA};

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": "u1", "userName": "bjensen", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"resourceType": "User", "version": "W/\"1\""}
    })
}

fn req(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
}

fn patch(resource: &Value, ops: Value, rt: &ResourceType) -> Result<Value, ScimError> {
    let mut r = resource.clone();
    PatchRequest::parse(&req(ops))?.apply(&mut r, rt)?;
    Ok(r)
}

fn patch_user(ops: Value) -> Result<Value, ScimError> {
    patch(&user(), ops, &USER_RESOURCE)
}

fn err_type(r: Result<Value, ScimError>) -> Option<&'static str> {
    r.err().and_then(|e| e.scim_type())
}

#[test]
fn envelope_is_checked() {
    let bad = [
        json!([]),
        json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        json!({"schemas": ["urn:wrong"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        json!({"schemas": [PATCH_OP_SCHEMA]}),
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "merge", "path": "title"}]}),
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"path": "title"}]}),
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [3]}),
    ];
    for body in bad {
        let e = PatchRequest::parse(&body).err();
        assert_eq!(
            e.and_then(|e| e.scim_type()),
            Some("invalidSyntax"),
            "{body}"
        );
    }
    let e = PatchRequest::parse(&req(json!([{"op": "add", "path": "title"}]))).err();
    assert_eq!(e.and_then(|e| e.scim_type()), Some("invalidValue"));
    let e = PatchRequest::parse(&req(json!([{"op": "remove"}]))).err();
    assert_eq!(e.and_then(|e| e.scim_type()), Some("noTarget"));
    let e = PatchRequest::parse(&req(
        json!([{"op": "add", "path": "emails[type eq", "value": 1}]),
    ))
    .err();
    assert_eq!(e.and_then(|e| e.scim_type()), Some("invalidPath"));
}

#[test]
fn capitalised_op_names() {
    let r = patch_user(json!([
        {"op": "Replace", "path": "title", "value": "Boss"},
        {"op": "Add", "path": "nickName", "value": "Babs"},
        {"op": "Remove", "path": "name.givenName"},
        {"op": "REPLACE", "path": "userType", "value": "Employee"}
    ]))
    .unwrap();
    assert_eq!(r["title"], "Boss");
    assert_eq!(r["nickName"], "Babs");
    assert_eq!(r["userType"], "Employee");
    assert!(r["name"].get("givenName").is_none());
    assert_eq!(r["name"]["familyName"], "Jensen");
}

#[test]
fn add_and_replace_simple_and_complex() {
    let r = patch_user(json!([
        {"op": "add", "path": "name", "value": {"middleName": "J"}},
        {"op": "replace", "path": "name.familyName", "value": "Smith"},
        {"op": "replace", "path": "NAME.GIVENNAME", "value": "Barb"}
    ]))
    .unwrap();
    // Sub-attributes not named are left unchanged (RFC 7644 §3.5.2.3).
    assert_eq!(
        r["name"],
        json!({"givenName": "Barb", "familyName": "Smith", "middleName": "J"})
    );
}

#[test]
fn no_path_add_and_replace() {
    let r = patch_user(json!([
        {"op": "replace", "value": {
            "displayName": "Babs", "active": false,
            "name.familyName": "Jensen-Smith",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "701984", "manager": {"value": "u9"}},
            "id": "u1", "schemas": ["whatever"]
        }}
    ]))
    .unwrap();
    assert_eq!(r["displayName"], "Babs");
    assert_eq!(r["active"], false);
    assert_eq!(r["name"]["familyName"], "Jensen-Smith");
    assert_eq!(r["name"]["givenName"], "Barbara");
    let ent = &r[ENTERPRISE_USER_SCHEMA];
    assert_eq!(ent["department"], "Sales");
    assert_eq!(ent["employeeNumber"], "701984");
    assert_eq!(ent["manager"]["value"], "u9");
    assert_eq!(r["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
}

#[test]
fn entra_boolean_strings_and_bare_manager() {
    let r = patch_user(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "u7"},
        {"op": "Replace", "path": "emails[type eq \"home\"].primary", "value": "True"}
    ]))
    .unwrap();
    assert_eq!(r["active"], false);
    assert_eq!(r[ENTERPRISE_USER_SCHEMA]["manager"], json!({"value": "u7"}));
    // Only one primary remains (RFC 7643 §2.4).
    assert_eq!(r["emails"][0]["primary"], false);
    assert_eq!(r["emails"][1]["primary"], true);
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "replace", "path": "active", "value": "yes"}])
        )),
        Some("invalidValue")
    );
}

#[test]
fn value_filter_paths() {
    let r = patch_user(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@corp.example"}
    ]))
    .unwrap();
    assert_eq!(r["emails"][0]["value"], "b@corp.example");
    assert_eq!(r["emails"][1]["value"], "babs@jensen.org");
    // Replace with filter and no sub-attribute replaces the matching values whole.
    let r = patch_user(json!([
        {"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x.org", "type": "home"}}
    ]))
    .unwrap();
    assert_eq!(r["emails"][1], json!({"value": "h@x.org", "type": "home"}));
    // Remove of a sub-attribute of the matching values.
    let r =
        patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}])).unwrap();
    assert!(r["emails"][0].get("primary").is_none());
    // Remove of the matching values.
    let r = patch_user(json!([{"op": "remove", "path": "emails[value ew \".org\"]"}])).unwrap();
    assert_eq!(r["emails"].as_array().map(Vec::len), Some(1));
}

#[test]
fn eq_filter_without_match_creates_the_value() {
    let r = patch_user(json!([
        {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+41 79 000 00 00"},
        {"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x.org"}
    ]))
    .unwrap();
    assert_eq!(
        r["phoneNumbers"],
        json!([{"type": "mobile", "value": "+41 79 000 00 00"}])
    );
    assert_eq!(r["emails"][2], json!({"type": "other", "value": "o@x.org"}));
    // Anything but a conjunction of eq cannot describe a value: noTarget (RFC 7644 §3.5.2.3).
    let e =
        patch_user(json!([{"op": "replace", "path": "emails[type co \"x\"].value", "value": "a"}]));
    assert_eq!(err_type(e), Some("noTarget"));
}

#[test]
fn multi_valued_add_appends_without_duplicates() {
    let r = patch_user(json!([
        {"op": "add", "path": "emails", "value": [
            {"value": "BJENSEN@example.com", "display": "work"},
            {"value": "new@example.com", "type": "other"}
        ]},
        {"op": "add", "path": "emails", "value": {"value": "new@example.com"}}
    ]))
    .unwrap();
    let emails = r["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3);
    assert_eq!(emails[0]["display"], "work");
    // Replace without filter replaces the whole set.
    let r = patch_user(
        json!([{"op": "replace", "path": "emails", "value": [{"value": "only@x.org"}]}]),
    )
    .unwrap();
    assert_eq!(r["emails"], json!([{"value": "only@x.org"}]));
}

fn group(n: usize) -> Value {
    let members: Vec<Value> = (0..n)
        .map(|i| json!({"value": format!("m{i}"), "type": "User"}))
        .collect();
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
           "displayName": "Admins", "members": members})
}

#[test]
fn group_membership_changes() {
    let g = group(3);
    let r = patch(
        &g,
        json!([
            {"op": "add", "path": "members", "value": [{"value": "m3"}, {"value": "m0"}]},
            {"op": "remove", "path": "members[value eq \"m1\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "m2"}]},
            {"op": "remove", "path": "members[value eq \"absent\"]"}
        ]),
        &GROUP_RESOURCE,
    )
    .unwrap();
    let ids: Vec<&str> = r["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["value"].as_str())
        .collect();
    assert_eq!(ids, ["m0", "m3"]);
    let r = patch(
        &g,
        json!([{"op": "remove", "path": "members"}]),
        &GROUP_RESOURCE,
    )
    .unwrap();
    assert!(r.get("members").is_none());
    let r = patch(
        &g,
        json!([{"op": "Replace", "path": "displayName", "value": "Ops"}]),
        &GROUP_RESOURCE,
    )
    .unwrap();
    assert_eq!(r["displayName"], "Ops");
}

#[test]
fn large_membership_patch_is_linear() {
    // 20,000 existing members, 10,000 adds (half already present) and 10,000 removes in one
    // request; a quadratic merge would take minutes in a debug build.
    let g = group(20_000);
    let adds: Vec<Value> = (10_000..20_000)
        .chain(20_000..25_000)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let removes: Vec<Value> = (0..10_000)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let r = patch(
        &g,
        json!([
            {"op": "add", "path": "members", "value": adds},
            {"op": "remove", "path": "members", "value": removes}
        ]),
        &GROUP_RESOURCE,
    )
    .unwrap();
    assert_eq!(r["members"].as_array().map(Vec::len), Some(15_000));
}

#[test]
fn enterprise_paths() {
    let r = patch_user(json!([
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "1"},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": {"costCenter": "4130"}},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "u2"}
    ]))
    .unwrap();
    assert_eq!(
        r[ENTERPRISE_USER_SCHEMA],
        json!({"employeeNumber": "1", "costCenter": "4130", "manager": {"value": "u2"}})
    );
    assert!(
        r["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE_USER_SCHEMA))
    );
    let gone = patch(&r, json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]), &USER_RESOURCE).unwrap();
    assert!(gone.get(ENTERPRISE_USER_SCHEMA).is_none());
    assert_eq!(gone["schemas"], json!([USER_SCHEMA]));
    // Removing the last extension attribute drops the extension too.
    let one = patch_user(json!([{"op": "add", "path": "employeeNumber", "value": "9"}])).unwrap();
    let none = patch(&one, json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}]), &USER_RESOURCE).unwrap();
    assert_eq!(none, user());
}

#[test]
fn mutability_rules() {
    for (path, value) in [
        ("id", json!("u2")),
        ("meta", json!({"version": "x"})),
        ("groups", json!([{"value": "g"}])),
        ("meta.version", json!("1")),
    ] {
        assert_eq!(
            err_type(patch_user(
                json!([{"op": "replace", "path": path, "value": value}])
            )),
            Some("mutability"),
            "{path}"
        );
    }
    assert_eq!(
        err_type(patch_user(json!([{"op": "remove", "path": "id"}]))),
        Some("mutability")
    );
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "replace", "value": {"id": "other"}}])
        )),
        Some("mutability")
    );
    // Echoing an unchanged read-only value is tolerated.
    assert_eq!(
        patch_user(json!([{"op": "replace", "value": {"id": "u1", "title": "T"}}])).unwrap()["title"],
        "T"
    );
    // Immutable sub-attributes of existing members cannot change.
    let e = patch(
        &group(2),
        json!([{"op": "replace", "path": "members[value eq \"m1\"].value", "value": "m9"}]),
        &GROUP_RESOURCE,
    );
    assert_eq!(err_type(e), Some("mutability"));
    // Read-only sub-attributes inside a value are ignored.
    let r = patch_user(json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "u3", "displayName": "X"}}])).unwrap();
    assert_eq!(r[ENTERPRISE_USER_SCHEMA]["manager"], json!({"value": "u3"}));
}

#[test]
fn path_and_value_errors() {
    let cases = [
        (
            json!([{"op": "add", "path": "shoeSize", "value": 42}]),
            "invalidPath",
        ),
        (
            json!([{"op": "add", "path": "name.nickname", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "add", "path": "userName[value eq \"x\"]", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "add", "path": 7, "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "add", "value": {"shoeSize": 42}}]),
            "invalidPath",
        ),
        (
            json!([{"op": "add", "value": "not an object"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": true}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": {"a": 1}}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "name", "value": "Babs"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "add", "path": "emails", "value": [{"value": "a@b", "colour": "red"}]}]),
            "invalidValue",
        ),
        (
            json!([{"op": "remove", "path": "userName"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": null}]),
            "invalidValue",
        ),
    ];
    for (ops, expected) in cases {
        assert_eq!(err_type(patch_user(ops.clone())), Some(expected), "{ops}");
    }
}

#[test]
fn failed_patch_leaves_resource_untouched() {
    let mut r = user();
    let p = PatchRequest::parse(&req(json!([
        {"op": "replace", "path": "title", "value": "changed"},
        {"op": "replace", "path": "id", "value": "x"}
    ])))
    .unwrap();
    assert!(p.apply(&mut r, &USER_RESOURCE).is_err());
    assert_eq!(r, user());
    let noop = PatchRequest::parse(&req(
        json!([{"op": "replace", "path": "userName", "value": "bjensen"}]),
    ))
    .unwrap();
    assert_eq!(noop.apply(&mut r, &USER_RESOURCE), Ok(false));
}

#[test]
fn keys_are_case_insensitive() {
    let mut r = user();
    r["EMAILS"] = r["emails"].take();
    r.as_object_mut().unwrap().remove("emails");
    let r = patch(
        &r,
        json!([{"op": "add", "path": "Emails", "value": [{"value": "x@y.z"}]}]),
        &USER_RESOURCE,
    )
    .unwrap();
    assert!(r.get("EMAILS").is_none());
    assert_eq!(r["emails"].as_array().map(Vec::len), Some(3));
}

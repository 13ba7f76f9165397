//! Bulk parsing, limits, references and ordering.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;

const LIMITS: BulkLimits = BulkLimits {
    max_operations: 3,
    max_payload_size: 1000,
};

fn body(ops: Value) -> Value {
    json!({"schemas": [BULK_REQUEST_SCHEMA], "failOnErrors": 1, "Operations": ops})
}

fn parse(ops: Value) -> Result<BulkRequest, ScimError> {
    BulkRequest::parse(&body(ops), &LIMITS)
}

#[test]
fn parses_operations() {
    let req = parse(json!([
        {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": {"userName": "a"}},
        {"method": "post", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G", "members": [{"value": "bulkId:qwerty"}]}},
        {"method": "DELETE", "path": "/Users/u9", "version": "W/\"3\""}
    ]))
    .unwrap();
    assert_eq!(req.fail_on_errors, Some(1));
    assert_eq!(req.operations[1].method, BulkMethod::Post);
    assert_eq!(req.operations[1].resource_type.id, "Group");
    assert_eq!(req.operations[2].resource_id.as_deref(), Some("u9"));
    assert_eq!(req.operations[2].version.as_deref(), Some("W/\"3\""));
    assert_eq!(req.operations[1].referenced_bulk_ids(), ["qwerty"]);
}

#[test]
fn rejects_invalid_requests() {
    let cases = [
        (
            json!([{"method": "GET", "path": "/Users"}]),
            "invalidSyntax",
        ),
        (json!([{"method": "POST", "data": {}}]), "invalidSyntax"),
        (
            json!([{"method": "POST", "path": "/Users", "data": {}}]),
            "invalidValue",
        ),
        (
            json!([{"method": "POST", "path": "/Users/x", "bulkId": "a", "data": {}}]),
            "invalidPath",
        ),
        (
            json!([{"method": "PUT", "path": "/Users", "data": {}}]),
            "invalidPath",
        ),
        (
            json!([{"method": "PATCH", "path": "/Widgets/1", "data": {}}]),
            "invalidPath",
        ),
        (
            json!([{"method": "PATCH", "path": "Users/1", "data": {}}]),
            "invalidPath",
        ),
        (
            json!([{"method": "PUT", "path": "/Users/1"}]),
            "invalidValue",
        ),
        (
            json!([
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}}
            ]),
            "invalidValue",
        ),
    ];
    for (ops, expected) in cases {
        let got = parse(ops.clone()).err().and_then(|e| e.scim_type());
        assert_eq!(got, Some(expected), "{ops}");
    }
    let no_schema = json!({"Operations": []});
    assert!(matches!(
        BulkRequest::parse(&no_schema, &LIMITS),
        Err(ScimError::InvalidSyntax(_))
    ));
    let zero = json!({"schemas": [BULK_REQUEST_SCHEMA], "failOnErrors": 0, "Operations": []});
    assert!(matches!(
        BulkRequest::parse(&zero, &LIMITS),
        Err(ScimError::InvalidValue(_))
    ));
}

#[test]
fn limits_are_413() {
    let op = json!({"method": "DELETE", "path": "/Users/1"});
    let e = parse(json!([op, op, op, op])).unwrap_err();
    assert_eq!(e.status(), 413);
    assert_eq!(
        BulkRequest::check_payload_size(1001, &LIMITS)
            .unwrap_err()
            .status(),
        413
    );
    assert!(BulkRequest::check_payload_size(1000, &LIMITS).is_ok());
}

#[test]
fn references_resolve_and_order() {
    let mut req = parse(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G", "members": [{"value": "bulkId:u"}]}},
        {"method": "PATCH", "path": "/Users/bulkId:u", "data": {"schemas": [], "Operations": []}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "a"}}
    ]))
    .unwrap();
    let (order, cyclic) = req.execution_order();
    assert_eq!(order, [2, 0, 1]);
    assert!(cyclic.is_empty());
    let created: HashMap<String, String> = [("u".to_string(), "id-1".to_string())].into();
    req.operations[0].resolve_bulk_ids(&created).unwrap();
    assert_eq!(
        req.operations[0].data.as_ref().unwrap()["members"][0]["value"],
        "id-1"
    );
    req.operations[1].resolve_bulk_ids(&created).unwrap();
    assert_eq!(req.operations[1].path, "/Users/id-1");
    let e = req.operations[0].clone().resolve_bulk_ids(&HashMap::new());
    assert!(e.is_ok(), "already resolved");
    let mut fresh =
        parse(json!([{"method": "PATCH", "path": "/Users/bulkId:zz", "data": {}}])).unwrap();
    let e = fresh.operations[0].resolve_bulk_ids(&created).unwrap_err();
    assert_eq!((e.status(), e.scim_type()), (409, Some("invalidValue")));
}

#[test]
fn cycles_are_reported() {
    let req = parse(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"members": [{"value": "bulkId:b"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"members": [{"value": "bulkId:a"}]}},
        {"method": "DELETE", "path": "/Users/x"}
    ]))
    .unwrap();
    assert_eq!(req.execution_order(), (vec![2], vec![0, 1]));
}

#[test]
fn response_envelope() {
    let r = bulk_response(&[BulkOperationResult {
        method: BulkMethod::Post,
        bulk_id: Some("q".into()),
        version: Some("W/\"1\"".into()),
        location: Some("https://x/Users/1".into()),
        status: 201,
        response: None,
    }]);
    assert_eq!(r["schemas"][0], BULK_RESPONSE_SCHEMA);
    assert_eq!(r["Operations"][0]["status"], "201");
    assert_eq!(r["Operations"][0]["bulkId"], "q");
}

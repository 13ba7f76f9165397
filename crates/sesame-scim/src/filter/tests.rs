//! The filter table: every operator, logic, precedence, grouping, value paths, case rules,
//! extension URNs, dates, and the rejections.

use serde_json::{Value, json};

use super::*;
use crate::schema::{AttrType, AttributeDef, GROUP_RESOURCE, Schema, USER_RESOURCE};

fn users() -> Vec<Value> {
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    vec![
        json!({
            "id": "u1", "externalId": "BJ-1", "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs Jensen", "nickName": "Babs", "title": "Tour Guide",
            "userType": "Employee", "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
            "meta": {"resourceType": "User", "created": "2011-08-01T18:29:49.793Z",
                     "lastModified": "2011-08-01T21:32:44.882Z"},
            ent: {"employeeNumber": "701984", "department": "Tour Operations",
                  "manager": {"value": "u3", "displayName": "Alice"}}
        }),
        json!({
            "id": "u2", "externalId": "js-2", "userName": "JSmith",
            "name": {"givenName": "John", "familyName": "Smith"},
            "displayName": "John Smith", "title": "Engineer", "userType": "Contractor",
            "active": false,
            "emails": [{"value": "john@corp.example", "type": "work"}],
            "meta": {"resourceType": "User", "created": "2015-03-01T00:00:00Z",
                     "lastModified": "2020-06-15T10:00:00+02:00"},
            ent: {"employeeNumber": "1002", "department": "Engineering"}
        }),
        json!({
            "id": "u3", "userName": "alice", "displayName": "Alice Ångström",
            "name": {"familyName": "Ångström"}, "title": "", "active": true,
            "emails": [],
            "meta": {"resourceType": "User", "created": "2019-01-01T00:00:00Z",
                     "lastModified": "2020-06-15T09:00:00Z"},
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"employeeNumber": "42", "manager": null}
        }),
        json!({
            "id": "u4", "externalId": "BOB", "userName": "bob", "title": "Director",
            "Emails": [{"Value": "Bob@Example.com", "type": "other", "primary": false}],
            "meta": {"resourceType": "User", "created": "2021-12-31T23:59:59Z"}
        }),
    ]
}

fn ids<'a>(
    filter: &str,
    resources: &'a [Value],
    rt: &ResourceType,
) -> Result<Vec<&'a str>, ScimError> {
    let f = Filter::parse_for(filter, rt)?;
    Ok(resources
        .iter()
        .filter(|r| f.matches(r, rt))
        .filter_map(|r| r["id"].as_str())
        .collect())
}

const USER_CASES: &[(&str, &[&str])] = &[
    // eq, with userName case-insensitive (caseExact false) and operators case-insensitive.
    (r#"userName eq "bjensen""#, &["u1"]),
    (r#"userName eq "BJENSEN""#, &["u1"]),
    (r#"USERNAME EQ "jsmith""#, &["u2"]),
    (r#"username Eq "JSmith""#, &["u2"]),
    // id and externalId are caseExact.
    (r#"externalId eq "BJ-1""#, &["u1"]),
    (r#"externalId eq "bj-1""#, &[]),
    (r#"id eq "u2""#, &["u2"]),
    (r#"id eq "U2""#, &[]),
    // ne: absent attributes do not match.
    (r#"userName ne "bjensen""#, &["u2", "u3", "u4"]),
    (r#"externalId ne "BOB""#, &["u1", "u2"]),
    // co / sw / ew.
    (r#"displayName co "jen""#, &["u1"]),
    (r#"displayName co "ÅNGSTRÖM""#, &["u3"]),
    (r#"userName sw "j""#, &["u2"]),
    (r#"userName sw "B""#, &["u1", "u4"]),
    (r#"userName ew "th""#, &["u2"]),
    (r#"title ew "or""#, &["u4"]),
    // gt / ge / lt / le on strings (lexical, case-insensitive for userName).
    (r#"userName gt "bob""#, &["u2"]),
    (r#"userName ge "bob""#, &["u2", "u4"]),
    (r#"userName gt "BJ""#, &["u1", "u2", "u4"]),
    (r#"userName lt "B""#, &["u3"]),
    (r#"userName le "BOB""#, &["u1", "u3", "u4"]),
    // pr.
    ("title pr", &["u1", "u2", "u4"]),
    ("externalId pr", &["u1", "u2", "u4"]),
    ("emails pr", &["u1", "u2", "u4"]),
    ("name pr", &["u1", "u2", "u3"]),
    ("nickName pr", &["u1"]),
    // booleans.
    ("active eq true", &["u1", "u3"]),
    ("active eq false", &["u2"]),
    ("active ne true", &["u2"]),
    ("active eq True", &["u1", "u3"]),
    ("not (active eq true)", &["u2", "u4"]),
    // null.
    ("externalId eq null", &["u3"]),
    ("externalId ne null", &["u1", "u2", "u4"]),
    // sub-attributes.
    (r#"name.familyName eq "jensen""#, &["u1"]),
    (r#"NAME.FAMILYNAME co "ström""#, &["u3"]),
    ("name.givenName pr", &["u1", "u2"]),
    // multi-valued: any value matches; complex without sub-attribute compares `value`.
    (r#"emails co "example.com""#, &["u1", "u4"]),
    (r#"emails.value ew ".org""#, &["u1"]),
    (r#"emails.type eq "work""#, &["u1", "u2"]),
    (r#"emails.value eq "bob@example.com""#, &["u4"]),
    // value paths.
    (r#"emails[type eq "work"]"#, &["u1", "u2"]),
    (r#"emails[type eq "work" and value co "corp"]"#, &["u2"]),
    (r#"emails[type eq "work" and primary eq true]"#, &["u1"]),
    (
        r#"emails[type eq "work" and primary eq true].value eq "bjensen@example.com""#,
        &["u1"],
    ),
    (r#"emails[type eq "work"].value co "@corp""#, &["u2"]),
    (
        r#"emails[type eq "home" or type eq "other"]"#,
        &["u1", "u4"],
    ),
    (r#"emails[not (type eq "work")]"#, &["u1", "u4"]),
    (r#"emails[primary pr]"#, &["u1", "u4"]),
    (
        r#"phoneNumbers[type eq "work" and value sw "555"]"#,
        &["u1"],
    ),
    // logic and precedence: and binds tighter than or.
    (
        r#"userName eq "bob" or userName eq "alice" and active eq false"#,
        &["u4"],
    ),
    (
        r#"(userName eq "bob" or userName eq "alice") and active eq true"#,
        &["u3"],
    ),
    (r#"title pr and userType eq "Employee""#, &["u1"]),
    (
        r#"title pr and (userType eq "Employee" or userType eq "Contractor")"#,
        &["u1", "u2"],
    ),
    (
        r#"userType eq "Employee" or userType eq "Contractor" and active eq true"#,
        &["u1"],
    ),
    (
        r#"not (userName eq "bob") and not (active eq true)"#,
        &["u2"],
    ),
    (r#"not (userName eq "bob" or active pr)"#, &[]),
    (r#"((((userName eq "alice"))))"#, &["u3"]),
    (r#"userName eq "bob" OR userName eq "alice""#, &["u3", "u4"]),
    // enterprise extension, with and without URN, case-insensitive URN and keys.
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        &["u1"],
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr"#,
        &["u1", "u2", "u3"],
    ),
    (
        r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department sw "eng""#,
        &["u2"],
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u3""#,
        &["u1"],
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr"#,
        &["u1"],
    ),
    (r#"employeeNumber eq "42""#, &["u3"]),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice""#,
        &["u3"],
    ),
    // dateTime compares instants, not strings (+02:00 vs Z).
    (r#"meta.lastModified gt "2020-06-15T08:30:00Z""#, &["u3"]),
    (r#"meta.lastModified eq "2020-06-15T08:00:00Z""#, &["u2"]),
    (r#"meta.created ge "2019-01-01T00:00:00Z""#, &["u3", "u4"]),
    (r#"meta.created lt "2015-03-01T00:00:00.000Z""#, &["u1"]),
    (
        r#"meta.created le "2015-03-01T01:00:00+01:00""#,
        &["u1", "u2"],
    ),
    (
        r#"meta.lastModified pr and meta.created gt "2011-08-01T18:29:49Z""#,
        &["u1", "u2", "u3"],
    ),
    // JSON string escapes.
    (r#"displayName eq "Alice \u00c5ngstr\u00f6m""#, &["u3"]),
    (r#"title eq "Tour\u0020Guide""#, &["u1"]),
    // unknown attributes match nothing, without error.
    (r#"shoeSize eq "42""#, &[]),
    ("not (shoeSize pr)", &["u1", "u2", "u3", "u4"]),
    (r#"name.nickname eq "x""#, &[]),
    // type mismatches match nothing.
    ("userName eq 42", &[]),
    // extra whitespace is tolerated.
    ("  userName   eq   \"bob\"  ", &["u4"]),
];

#[test]
fn user_filter_table() {
    let users = users();
    let mut failures = Vec::new();
    for (filter, expected) in USER_CASES {
        match ids(filter, &users, &USER_RESOURCE) {
            Ok(got) if got == *expected => {}
            other => failures.push(format!("{filter}: expected {expected:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(USER_CASES.len() >= 60);
}

#[test]
fn group_filter_table() {
    let groups = vec![
        json!({"id": "g1", "displayName": "Admins",
               "members": [{"value": "u1", "type": "User"}, {"value": "u2"}]}),
        json!({"id": "g2", "displayName": "admins-eu", "members": []}),
        json!({"id": "g3", "displayName": "Sales"}),
    ];
    let cases: &[(&str, &[&str])] = &[
        (r#"displayName eq "admins""#, &["g1"]),
        (r#"displayName sw "ADMINS""#, &["g1", "g2"]),
        (r#"members[value eq "u2"]"#, &["g1"]),
        (r#"members eq "u1""#, &["g1"]),
        ("members pr", &["g1"]),
        ("not (members pr)", &["g2", "g3"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(filter, &groups, &GROUP_RESOURCE).as_deref(),
            Ok(*expected),
            "{filter}"
        );
    }
}

static NUMBERS: Schema = Schema {
    id: "urn:example:params:scim:schemas:Test",
    name: "Test",
    description: "numbers",
    attributes: &[
        AttributeDef::new("age", AttrType::Integer),
        AttributeDef::new("score", AttrType::Decimal),
    ],
};
static NUMBERS_RT: ResourceType = ResourceType {
    id: "Test",
    name: "Test",
    endpoint: "/Tests",
    description: "numbers",
    schema: &NUMBERS,
    extensions: &[],
};

#[test]
fn number_filter_table() {
    let rs = vec![
        json!({"id": "a", "age": 30, "score": 1.5}),
        json!({"id": "b", "age": 41, "score": -2e1}),
        json!({"id": "c", "age": "30"}),
    ];
    let cases: &[(&str, &[&str])] = &[
        ("age eq 30", &["a"]),
        ("age ne 30", &["b"]),
        ("age gt 30", &["b"]),
        ("age ge 30", &["a", "b"]),
        ("age lt 41", &["a"]),
        ("age le 41.0", &["a", "b"]),
        ("score lt 0", &["b"]),
        ("score eq 1.5", &["a"]),
        ("score gt -2.5e1", &["a", "b"]),
        ("age co 3", &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(filter, &rs, &NUMBERS_RT).as_deref(),
            Ok(*expected),
            "{filter}"
        );
    }
}

/// Each invalid filter and a fragment its message must contain.
const INVALID: &[(&str, &str)] = &[
    ("", "empty"),
    ("   ", "empty"),
    ("userName", "expected an operator"),
    (r#"userName eq"#, "expected a comparison value"),
    (r#"userName xx "bob""#, "unknown operator 'xx'"),
    (r#"userName eq bob"#, "invalid comparison value 'bob'"),
    (r#"userName eq "bob"#, "unterminated string"),
    (r#"userName eq "b\qb""#, "invalid string"),
    (r#"(userName eq "bob""#, "expected ')'"),
    (r#"userName eq "bob")"#, "unexpected ')'"),
    (r#"userName eq "bob" and"#, "unexpected end of filter"),
    (r#"userName eq "bob" xor title pr"#, "unexpected 'xor'"),
    (r#"not userName eq "bob""#, "'not' must be followed"),
    (r#"emails[type eq "work""#, "expected ']'"),
    (
        r#"emails[type[value eq "x"] eq "work"]"#,
        "cannot be nested",
    ),
    (r#"emails[name.familyName eq "x"]"#, "plain sub-attribute"),
    (r#"name.familyName[value eq "x"]"#, "not a sub-attribute"),
    (r#"1userName eq "x""#, "invalid attribute path"),
    (r#"a.b.c eq "x""#, "invalid attribute path"),
    (r#"userName eq "x" and ()"#, "expected an attribute path"),
    ("active gt true", "cannot be used with boolean"),
    (
        r#"x509Certificates.value lt "abc""#,
        "cannot be used with binary",
    ),
    (r#"userName[value eq "x"]"#, "not a complex attribute"),
    (
        r#"emails[type eq "work"].1x eq "y""#,
        "invalid sub-attribute",
    ),
    ("[", "expected an attribute path"),
];

#[test]
fn invalid_filters_are_rejected_with_position() {
    let mut failures = Vec::new();
    for (filter, fragment) in INVALID {
        match Filter::parse_for(filter, &USER_RESOURCE) {
            Err(e @ ScimError::InvalidFilter(_)) if e.detail().contains(fragment) => {
                assert_eq!(e.scim_type(), Some("invalidFilter"));
                assert_eq!(e.status(), 400);
            }
            other => failures.push(format!("{filter:?}: expected '{fragment}', got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors_name_the_position() {
    let e = Filter::parse(r#"userName eq "a" and title zz "b""#).err();
    let detail = e.map(|e| e.detail().to_string()).unwrap_or_default();
    assert!(detail.contains("position 27"), "{detail}");
}

#[test]
fn limits_on_length_and_depth() {
    let long = format!(r#"userName eq "{}""#, "a".repeat(MAX_FILTER_LEN));
    assert!(
        matches!(Filter::parse(&long), Err(ScimError::InvalidFilter(m)) if m.contains("longer"))
    );
    let deep = format!("{}userName pr{}", "(".repeat(33), ")".repeat(33));
    assert!(
        matches!(Filter::parse(&deep), Err(ScimError::InvalidFilter(m)) if m.contains("deeper"))
    );
    let ok = format!("{}userName pr{}", "(".repeat(32), ")".repeat(32));
    assert!(Filter::parse(&ok).is_ok());
    let nots = format!("{}userName pr{}", "not (".repeat(40), ")".repeat(40));
    assert!(Filter::parse(&nots).is_err());
    // A long flat chain of `and` is fine: it is not nesting.
    let chain = vec![r#"userName eq "x""#; 200].join(" and ");
    assert!(Filter::parse(&chain).is_ok());
}

#[test]
fn simple_comparison_for_indexed_lookups() {
    let f = Filter::parse(r#"userName eq "bjensen""#).ok();
    let simple = f.as_ref().and_then(|f| f.as_simple_comparison());
    let (path, op, value) = simple.unwrap();
    assert_eq!(path.name, "userName");
    assert_eq!(op, CompareOp::Eq);
    assert_eq!(value, &json!("bjensen"));
    let f = Filter::parse(r#"userName eq "a" or userName eq "b""#).ok();
    assert!(f.as_ref().and_then(|f| f.as_simple_comparison()).is_none());
}

#[test]
fn ast_shape() {
    let f = Filter::parse(r#"a eq 1 or b eq 2 and c pr"#).ok();
    let Some(Filter::Or(_, right)) = f else {
        panic!("or must be the root: {f:?}");
    };
    assert!(matches!(*right, Filter::And(_, _)));
    let vp = Filter::parse(r#"emails[type eq "work"].value co "x""#).ok();
    assert!(matches!(vp, Some(Filter::ValuePath { .. })));
}

//! Discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`, rendered from the static definitions in [`crate::schema`]. The base URL (for
//! example `https://id.example.com/{tenant}/scim/v2`) comes from the caller.

use serde_json::{Map, Value, json};

use crate::list::list_response;
use crate::schema::{AttrType, AttributeDef, RESOURCE_TYPES, ResourceType, SCHEMAS, Schema};

/// The ServiceProviderConfig schema (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The ResourceType schema (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The Schema schema (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The limits the server advertises, and enforces elsewhere with the same numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    pub bulk_max_operations: usize,
    pub bulk_max_payload_size: usize,
    pub filter_max_results: usize,
    pub documentation_uri: Option<String>,
}

impl Default for ServiceProviderConfig {
    fn default() -> Self {
        Self {
            bulk_max_operations: 1000,
            bulk_max_payload_size: 1_048_576,
            filter_max_results: 200,
            documentation_uri: None,
        }
    }
}

fn location(base_url: &str, rest: &str) -> String {
    format!("{}/{rest}", base_url.trim_end_matches('/'))
}

/// `GET /ServiceProviderConfig` (RFC 7643 §5).
pub fn service_provider_config_json(base_url: &str, cfg: &ServiceProviderConfig) -> Value {
    let mut doc = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": cfg.bulk_max_operations,
            "maxPayloadSize": cfg.bulk_max_payload_size,
        },
        "filter": {"supported": true, "maxResults": cfg.filter_max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a secret token issued per tenant, sent as a bearer token.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": location(base_url, "ServiceProviderConfig"),
        },
    });
    if let (Some(uri), Some(o)) = (&cfg.documentation_uri, doc.as_object_mut()) {
        o.insert("documentationUri".into(), Value::String(uri.clone()));
    }
    doc
}

/// One attribute definition as `/Schemas` shows it (RFC 7643 §7).
fn attribute_json(a: &AttributeDef) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), a.name.into());
    o.insert("type".into(), a.ty.as_str().into());
    o.insert("multiValued".into(), a.multi_valued.into());
    o.insert("description".into(), a.description.into());
    o.insert("required".into(), a.required.into());
    o.insert("caseExact".into(), a.case_exact.into());
    o.insert("mutability".into(), a.mutability.as_str().into());
    o.insert("returned".into(), a.returned.as_str().into());
    o.insert("uniqueness".into(), a.uniqueness.as_str().into());
    if !a.canonical_values.is_empty() {
        o.insert("canonicalValues".into(), a.canonical_values.into());
    }
    if a.ty == AttrType::Reference {
        o.insert("referenceTypes".into(), a.reference_types.into());
    }
    if a.ty == AttrType::Complex {
        let subs: Vec<Value> = a.sub_attributes.iter().map(attribute_json).collect();
        o.insert("subAttributes".into(), Value::Array(subs));
    }
    Value::Object(o)
}

/// `GET /Schemas/{id}`.
pub fn schema_json(schema: &Schema, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": location(base_url, &format!("Schemas/{}", schema.id)),
        },
    })
}

/// `GET /Schemas`: a ListResponse of every schema (RFC 7644 §4).
pub fn schemas_json(base_url: &str) -> Value {
    let all: Vec<Value> = SCHEMAS.iter().map(|s| schema_json(s, base_url)).collect();
    let n = all.len();
    list_response(all, n, 1)
}

/// The schema with this id, for `GET /Schemas/{id}`.
pub fn find_schema(id: &str) -> Option<&'static Schema> {
    SCHEMAS
        .iter()
        .copied()
        .find(|s| s.id.eq_ignore_ascii_case(id))
}

/// `GET /ResourceTypes/{id}` (RFC 7643 §6).
pub fn resource_type_json(rt: &ResourceType, base_url: &str) -> Value {
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|(s, required)| json!({"schema": s.id, "required": required}))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.id,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": location(base_url, &format!("ResourceTypes/{}", rt.id)),
        },
    })
}

/// `GET /ResourceTypes`.
pub fn resource_types_json(base_url: &str) -> Value {
    let all: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|rt| resource_type_json(rt, base_url))
        .collect();
    let n = all.len();
    list_response(all, n, 1)
}

/// The resource type with this id, for `GET /ResourceTypes/{id}`.
pub fn find_resource_type(id: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .find(|rt| rt.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config() {
        let doc =
            service_provider_config_json("https://x/t/scim/v2/", &ServiceProviderConfig::default());
        assert_eq!(doc["bulk"]["maxOperations"], 1000);
        assert_eq!(doc["filter"]["maxResults"], 200);
        assert_eq!(doc["changePassword"]["supported"], false);
        assert_eq!(doc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(
            doc["meta"]["location"],
            "https://x/t/scim/v2/ServiceProviderConfig"
        );
    }

    #[test]
    fn schemas_and_resource_types() {
        let s = schemas_json("https://x/scim/v2");
        assert_eq!(s["totalResults"], 3);
        let user = &s["Resources"][0];
        let user_name = &user["attributes"][0];
        assert_eq!(user_name["name"], "userName");
        assert_eq!(user_name["caseExact"], false);
        assert_eq!(user_name["uniqueness"], "server");
        let emails = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "emails")
            .unwrap();
        assert_eq!(emails["multiValued"], true);
        assert_eq!(
            emails["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        let rts = resource_types_json("https://x/scim/v2");
        assert_eq!(
            rts["Resources"][0]["schemaExtensions"][0]["required"],
            false
        );
        assert_eq!(rts["Resources"][1]["endpoint"], "/Groups");
        assert!(find_schema("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP").is_some());
        assert!(find_resource_type("user").is_some());
    }
}

//! Attribute definitions of the resources Sésame serves (RFC 7643 §2, §3.1, §4, §8.7).
//!
//! Definitions are static data, so the filter evaluator, the PATCH engine, attribute selection
//! and sorting all read the same case rules, mutability and `returned` settings. Resources
//! themselves are plain `serde_json::Value` objects: core attributes at the top level, extension
//! attributes under the extension's schema URN (RFC 7643 §3.3).

/// Core User schema URN (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Core Group schema URN (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Attribute data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    /// The name used in `/Schemas` (RFC 7643 §7).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7). Built with `const` helpers so the schemas below
/// are static tables.
#[derive(Debug, Clone, Copy)]
pub struct AttributeDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub sub_attributes: &'static [AttributeDef],
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
}

impl AttributeDef {
    /// A single-valued, optional, case-insensitive, readWrite attribute returned by default:
    /// the defaults of RFC 7643 §2.2.
    pub const fn new(name: &'static str, ty: AttrType) -> Self {
        Self {
            name,
            ty,
            multi_valued: false,
            description: "",
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            sub_attributes: &[],
            canonical_values: &[],
            reference_types: &[],
        }
    }
    const fn string(name: &'static str) -> Self {
        Self::new(name, AttrType::String)
    }
    const fn complex(name: &'static str, subs: &'static [AttributeDef]) -> Self {
        let mut a = Self::new(name, AttrType::Complex);
        a.sub_attributes = subs;
        a
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    const fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    const fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    const fn canonical(mut self, v: &'static [&'static str]) -> Self {
        self.canonical_values = v;
        self
    }
    const fn refs(mut self, v: &'static [&'static str]) -> Self {
        self.reference_types = v;
        self
    }
    const fn describe(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }

    /// The sub-attribute called `name`, compared case-insensitively (RFC 7644 §3.10).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// True for a complex attribute whose values are identified by a `value` sub-attribute
    /// (emails, members…): filters on the attribute itself compare that sub-attribute.
    pub fn value_sub_attribute(&self) -> Option<&'static AttributeDef> {
        if self.ty == AttrType::Complex {
            self.sub_attribute("value")
        } else {
            None
        }
    }
}

/// A schema (RFC 7643 §7).
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttributeDef],
}

impl Schema {
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A resource type (RFC 7643 §6): its core schema and extensions.
#[derive(Debug)]
pub struct ResourceType {
    pub id: &'static str,
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static Schema,
    /// Extension schemas and whether they are required.
    pub extensions: &'static [(&'static Schema, bool)],
}

/// Resource types are static and identified by their id.
impl PartialEq for ResourceType {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl ResourceType {
    /// Every schema of the resource type, core first.
    pub fn schemas(&self) -> impl Iterator<Item = &'static Schema> + '_ {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|(s, _)| *s))
    }

    /// The extension schema with this URN (case-insensitive, RFC 7643 §2.1 says URNs are
    /// case-insensitive).
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .map(|(s, _)| *s)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// A top-level attribute of the core schema or a common attribute (id, externalId, meta).
    pub fn core_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.schema.attribute(name).or_else(|| {
            COMMON_ATTRIBUTES
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
        })
    }

    /// The resource type serving `endpoint` (`/Users`, `/Groups`), case-insensitively.
    pub fn by_endpoint(endpoint: &str) -> Option<&'static ResourceType> {
        RESOURCE_TYPES
            .iter()
            .copied()
            .find(|rt| rt.endpoint.eq_ignore_ascii_case(endpoint))
    }
}

use AttrType::{Boolean, DateTime, Reference};
use Mutability::{Immutable, ReadOnly, WriteOnly};

/// Common attributes of every resource (RFC 7643 §3.1). They are not part of any schema's
/// `attributes` list in `/Schemas`, but filters, PATCH and selection know them.
pub static COMMON_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("id")
        .case_exact()
        .mutability(ReadOnly)
        .returned(Returned::Always)
        .unique(Uniqueness::Server)
        .describe("Unique identifier of the resource, issued by the service provider."),
    AttributeDef::string("externalId")
        .case_exact()
        .describe("Identifier of the resource as defined by the provisioning client."),
    AttributeDef::complex("meta", META_SUBS)
        .mutability(ReadOnly)
        .describe("Resource metadata."),
];

static META_SUBS: &[AttributeDef] = &[
    AttributeDef::string("resourceType")
        .case_exact()
        .mutability(ReadOnly),
    AttributeDef::new("created", DateTime).mutability(ReadOnly),
    AttributeDef::new("lastModified", DateTime).mutability(ReadOnly),
    AttributeDef::new("location", Reference)
        .case_exact()
        .mutability(ReadOnly)
        .refs(&["uri"]),
    AttributeDef::string("version")
        .case_exact()
        .mutability(ReadOnly),
];

const fn multi_subs_value(
    value: AttributeDef,
    types: &'static [&'static str],
) -> [AttributeDef; 4] {
    [
        value,
        AttributeDef::string("display"),
        AttributeDef::string("type").canonical(types),
        AttributeDef::new("primary", Boolean),
    ]
}

static NAME_SUBS: &[AttributeDef] = &[
    AttributeDef::string("formatted"),
    AttributeDef::string("familyName"),
    AttributeDef::string("givenName"),
    AttributeDef::string("middleName"),
    AttributeDef::string("honorificPrefix"),
    AttributeDef::string("honorificSuffix"),
];
static EMAIL_SUBS: &[AttributeDef] =
    &multi_subs_value(AttributeDef::string("value"), &["work", "home", "other"]);
static PHONE_SUBS: &[AttributeDef] = &multi_subs_value(
    AttributeDef::string("value"),
    &["work", "home", "mobile", "fax", "pager", "other"],
);
static IMS_SUBS: &[AttributeDef] = &multi_subs_value(
    AttributeDef::string("value"),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);
static PHOTO_SUBS: &[AttributeDef] = &multi_subs_value(
    AttributeDef::new("value", Reference).refs(&["external"]),
    &["photo", "thumbnail"],
);
static PLAIN_MULTI_SUBS: &[AttributeDef] = &multi_subs_value(AttributeDef::string("value"), &[]);
static CERT_SUBS: &[AttributeDef] =
    &multi_subs_value(AttributeDef::new("value", AttrType::Binary), &[]);
static ADDRESS_SUBS: &[AttributeDef] = &[
    AttributeDef::string("formatted"),
    AttributeDef::string("streetAddress"),
    AttributeDef::string("locality"),
    AttributeDef::string("region"),
    AttributeDef::string("postalCode"),
    AttributeDef::string("country"),
    AttributeDef::string("type").canonical(&["work", "home", "other"]),
    AttributeDef::new("primary", Boolean),
];
static USER_GROUP_SUBS: &[AttributeDef] = &[
    AttributeDef::string("value").mutability(ReadOnly),
    AttributeDef::new("$ref", Reference)
        .mutability(ReadOnly)
        .refs(&["User", "Group"]),
    AttributeDef::string("display").mutability(ReadOnly),
    AttributeDef::string("type")
        .mutability(ReadOnly)
        .canonical(&["direct", "indirect"]),
];

/// RFC 7643 §4.1 and §8.7.1.
pub static USER: Schema = Schema {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &[
        AttributeDef::string("userName")
            .required()
            .unique(Uniqueness::Server)
            .describe("Unique identifier for the User, used to sign in."),
        AttributeDef::complex("name", NAME_SUBS).describe("The components of the user's name."),
        AttributeDef::string("displayName"),
        AttributeDef::string("nickName"),
        AttributeDef::new("profileUrl", Reference).refs(&["external"]),
        AttributeDef::string("title"),
        AttributeDef::string("userType"),
        AttributeDef::string("preferredLanguage"),
        AttributeDef::string("locale"),
        AttributeDef::string("timezone"),
        AttributeDef::new("active", Boolean),
        AttributeDef::string("password")
            .mutability(WriteOnly)
            .returned(Returned::Never),
        AttributeDef::complex("emails", EMAIL_SUBS).multi(),
        AttributeDef::complex("phoneNumbers", PHONE_SUBS).multi(),
        AttributeDef::complex("ims", IMS_SUBS).multi(),
        AttributeDef::complex("photos", PHOTO_SUBS).multi(),
        AttributeDef::complex("addresses", ADDRESS_SUBS).multi(),
        AttributeDef::complex("groups", USER_GROUP_SUBS)
            .multi()
            .mutability(ReadOnly),
        AttributeDef::complex("entitlements", PLAIN_MULTI_SUBS).multi(),
        AttributeDef::complex("roles", PLAIN_MULTI_SUBS).multi(),
        AttributeDef::complex("x509Certificates", CERT_SUBS).multi(),
    ],
};

static MANAGER_SUBS: &[AttributeDef] = &[
    AttributeDef::string("value"),
    AttributeDef::new("$ref", Reference).refs(&["User"]),
    AttributeDef::string("displayName").mutability(ReadOnly),
];

/// RFC 7643 §4.3 and §8.7.1.
pub static ENTERPRISE_USER: Schema = Schema {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        AttributeDef::string("employeeNumber"),
        AttributeDef::string("costCenter"),
        AttributeDef::string("organization"),
        AttributeDef::string("division"),
        AttributeDef::string("department"),
        AttributeDef::complex("manager", MANAGER_SUBS).describe("The user's manager."),
    ],
};

static MEMBER_SUBS: &[AttributeDef] = &[
    AttributeDef::string("value").mutability(Immutable),
    AttributeDef::new("$ref", Reference)
        .mutability(Immutable)
        .refs(&["User", "Group"]),
    AttributeDef::string("display").mutability(Immutable),
    AttributeDef::string("type")
        .mutability(Immutable)
        .canonical(&["User", "Group"]),
];

/// RFC 7643 §4.2 and §8.7.1.
pub static GROUP: Schema = Schema {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &[
        AttributeDef::string("displayName")
            .required()
            .describe("A human-readable name for the Group."),
        AttributeDef::complex("members", MEMBER_SUBS)
            .multi()
            .describe("A list of members of the Group."),
    ],
};

/// The `User` resource type with the enterprise extension (optional).
pub static USER_RESOURCE: ResourceType = ResourceType {
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER,
    extensions: &[(&ENTERPRISE_USER, false)],
};

/// The `Group` resource type.
pub static GROUP_RESOURCE: ResourceType = ResourceType {
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP,
    extensions: &[],
};

/// Every resource type the server offers.
pub static RESOURCE_TYPES: &[&ResourceType] = &[&USER_RESOURCE, &GROUP_RESOURCE];

/// Every schema the server offers, for `/Schemas`.
pub static SCHEMAS: &[&Schema] = &[&USER, &ENTERPRISE_USER, &GROUP];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_rules_follow_rfc() {
        let user_name = USER_RESOURCE
            .core_attribute("USERNAME")
            .map(|a| a.case_exact);
        assert_eq!(user_name, Some(false));
        assert_eq!(
            USER_RESOURCE.core_attribute("id").map(|a| a.case_exact),
            Some(true)
        );
        assert_eq!(
            USER_RESOURCE
                .core_attribute("externalid")
                .map(|a| a.case_exact),
            Some(true)
        );
        assert!(
            USER_RESOURCE
                .extension(&ENTERPRISE_USER_SCHEMA.to_uppercase())
                .is_some()
        );
        assert_eq!(
            ResourceType::by_endpoint("/groups").map(|r| r.id),
            Some("Group")
        );
    }
}

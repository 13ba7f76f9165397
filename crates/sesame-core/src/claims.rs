//! Claims mapping (SAML-IDP-3): the NameID and the attributes an application receives, computed
//! from the user, the user's groups and app roles, and the application's settings.

use crate::{CoreError, CoreResult};
use sesame_model::*;

/// What goes into an assertion about the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedClaims {
    pub name_id: String,
    pub name_id_format: NameIdFormat,
    pub attributes: Vec<IssuedAttribute>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAttribute {
    pub name: String,
    pub name_format: Option<String>,
    pub values: Vec<String>,
}

/// Everything the mapping reads. `pairwise` computes the stable per-app pseudonym of the user.
pub struct ClaimInputs<'a> {
    pub user: &'a User,
    pub group_names: &'a [String],
    pub app_roles: &'a [String],
    pub pairwise: &'a (dyn Fn() -> String + Sync),
    /// A fresh random value, for transient NameIDs.
    pub transient: &'a (dyn Fn() -> String + Sync),
}

pub fn user_field(user: &User, field: UserField) -> Option<String> {
    let ext = |n: usize| user.extension_attributes.get(n - 1).cloned().flatten();
    match field {
        UserField::UserPrincipalName => Some(user.user_principal_name.clone()),
        UserField::Mail => user.mail.clone(),
        UserField::MailPrefix => {
            let m = user.mail.as_deref().unwrap_or(&user.user_principal_name);
            m.split('@').next().map(str::to_string)
        }
        UserField::GivenName => user.given_name.clone(),
        UserField::Surname => user.surname.clone(),
        UserField::DisplayName => user.display_name.clone(),
        UserField::EmployeeId => user.employee_id.clone(),
        UserField::ImmutableId => Some(user.immutable_id.clone()),
        UserField::ObjectId => Some(user.id.to_string()),
        UserField::ExtensionAttribute1 => ext(1),
        UserField::ExtensionAttribute2 => ext(2),
        UserField::ExtensionAttribute3 => ext(3),
        UserField::ExtensionAttribute4 => ext(4),
        UserField::ExtensionAttribute5 => ext(5),
        UserField::ExtensionAttribute6 => ext(6),
        UserField::ExtensionAttribute7 => ext(7),
        UserField::ExtensionAttribute8 => ext(8),
        UserField::ExtensionAttribute9 => ext(9),
        UserField::ExtensionAttribute10 => ext(10),
        UserField::ExtensionAttribute11 => ext(11),
        UserField::ExtensionAttribute12 => ext(12),
        UserField::ExtensionAttribute13 => ext(13),
        UserField::ExtensionAttribute14 => ext(14),
        UserField::ExtensionAttribute15 => ext(15),
    }
}

pub(crate) fn apply(transform: &ClaimTransform, value: String) -> String {
    match transform {
        ClaimTransform::ToLower => value.to_lowercase(),
        ClaimTransform::ToUpper => value.to_uppercase(),
        ClaimTransform::ExtractMailPrefix => {
            value.split('@').next().unwrap_or_default().to_string()
        }
        ClaimTransform::Join { separator, suffix } => format!("{value}{separator}{suffix}"),
    }
}

/// The NameID for `format` (the requested one when the SP asked for a supported format).
fn name_id(
    settings: &NameIdSettings,
    format: NameIdFormat,
    inputs: &ClaimInputs<'_>,
) -> CoreResult<String> {
    let value = match format {
        NameIdFormat::Transient => Some((inputs.transient)()),
        // A persistent NameID must never change for a user and app: the pairwise pseudonym
        // unless the administrator chose an attribute for it.
        NameIdFormat::Persistent => match settings.source {
            NameIdSource::User(f) if settings.format == NameIdFormat::Persistent => {
                user_field(inputs.user, f)
            }
            _ => Some((inputs.pairwise)()),
        },
        NameIdFormat::EmailAddress => match settings.source {
            NameIdSource::User(f) if settings.format == NameIdFormat::EmailAddress => {
                user_field(inputs.user, f)
            }
            _ => Some(inputs.user.user_principal_name.clone()),
        },
        NameIdFormat::Unspecified => match settings.source {
            NameIdSource::User(f) => user_field(inputs.user, f),
            NameIdSource::Pairwise => Some((inputs.pairwise)()),
        },
    };
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        CoreError::invalid(
            "nameId",
            format!(
                "the user has no value for the NameID source {:?}",
                settings.source
            ),
        )
    })
}

/// Maps the user to the application's claims. `requested_format` is the AuthnRequest's
/// NameIDPolicy Format when it names one Sésame can produce.
pub fn map_claims(
    settings: &SamlAppSettings,
    requested_format: Option<NameIdFormat>,
    inputs: &ClaimInputs<'_>,
) -> CoreResult<IssuedClaims> {
    let format = requested_format.unwrap_or(settings.name_id.format);
    let name_id = name_id(&settings.name_id, format, inputs)?;
    let mut attributes = Vec::new();
    for mapping in &settings.attributes {
        let raw: Vec<String> = match &mapping.source {
            ClaimSource::User(f) => user_field(inputs.user, *f).into_iter().collect(),
            ClaimSource::Constant(c) => vec![c.clone()],
            ClaimSource::Groups => inputs.group_names.to_vec(),
            ClaimSource::AppRoles => inputs.app_roles.to_vec(),
        };
        let values: Vec<String> = raw
            .into_iter()
            .map(|v| mapping.transforms.iter().fold(v, |acc, t| apply(t, acc)))
            .filter(|v| !v.is_empty())
            .collect();
        // An attribute without a value is left out, as Entra does.
        if !values.is_empty() {
            attributes.push(IssuedAttribute {
                name: mapping.name.clone(),
                name_format: mapping.name_format.clone(),
                values,
            });
        }
    }
    Ok(IssuedClaims {
        name_id,
        name_id_format: format,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let mut u = User::new(
            UserId(uuid::Uuid::nil()),
            TenantId(uuid::Uuid::nil()),
            "alice@contoso.example".into(),
            time::OffsetDateTime::UNIX_EPOCH,
        );
        u.given_name = Some("Alice".into());
        u.mail = Some("Alice.Martin@contoso.example".into());
        u.extension_attributes[2] = Some("ext3".into());
        u
    }

    fn settings(
        format: NameIdFormat,
        source: NameIdSource,
        attributes: Vec<AttributeMapping>,
    ) -> SamlAppSettings {
        SamlAppSettings {
            identifiers: vec!["urn:sp".into()],
            reply_urls: vec![],
            sign_on_url: None,
            logout_url: None,
            logout_response_url: None,
            logout_binding: Default::default(),
            back_channel_logout_url: None,
            relay_state: None,
            name_id: NameIdSettings { format, source },
            attributes,
            signing_mode: SigningMode::Assertion,
            signature_algorithm: SamlSignatureAlgorithm::RsaSha256,
            assertion_lifetime_secs: 3600,
            encryption_certificate: None,
            encryption_method: Default::default(),
            require_signed_requests: false,
            verification_certificates: vec![],
        }
    }

    fn map(
        s: &SamlAppSettings,
        requested: Option<NameIdFormat>,
        u: &User,
    ) -> CoreResult<IssuedClaims> {
        let groups = vec!["Sales".to_string(), "Admins".to_string()];
        let roles = vec!["Reader".to_string()];
        let inputs = ClaimInputs {
            user: u,
            group_names: &groups,
            app_roles: &roles,
            pairwise: &|| "PAIRWISE".to_string(),
            transient: &|| "_transient".to_string(),
        };
        map_claims(s, requested, &inputs)
    }

    fn attr(name: &str, source: ClaimSource, transforms: Vec<ClaimTransform>) -> AttributeMapping {
        AttributeMapping {
            name: name.into(),
            name_format: None,
            source,
            transforms,
        }
    }

    #[test]
    fn name_id_sources_and_formats() {
        let u = user();
        let cases = [
            (
                NameIdFormat::EmailAddress,
                NameIdSource::User(UserField::UserPrincipalName),
                None,
                "alice@contoso.example",
            ),
            (
                NameIdFormat::EmailAddress,
                NameIdSource::User(UserField::Mail),
                None,
                "Alice.Martin@contoso.example",
            ),
            (
                NameIdFormat::Unspecified,
                NameIdSource::User(UserField::MailPrefix),
                None,
                "Alice.Martin",
            ),
            (
                NameIdFormat::Persistent,
                NameIdSource::Pairwise,
                None,
                "PAIRWISE",
            ),
            (
                NameIdFormat::Persistent,
                NameIdSource::User(UserField::ImmutableId),
                None,
                u.immutable_id.as_str(),
            ),
            (
                NameIdFormat::Unspecified,
                NameIdSource::User(UserField::ExtensionAttribute3),
                None,
                "ext3",
            ),
            // The SP asks for another format: persistent is pairwise, transient is random.
            (
                NameIdFormat::EmailAddress,
                NameIdSource::User(UserField::Mail),
                Some(NameIdFormat::Persistent),
                "PAIRWISE",
            ),
            (
                NameIdFormat::EmailAddress,
                NameIdSource::User(UserField::Mail),
                Some(NameIdFormat::Transient),
                "_transient",
            ),
            (
                NameIdFormat::Persistent,
                NameIdSource::Pairwise,
                Some(NameIdFormat::EmailAddress),
                "alice@contoso.example",
            ),
        ];
        for (format, source, requested, expected) in cases {
            let c = map(&settings(format, source, vec![]), requested, &u).unwrap();
            assert_eq!(c.name_id, expected, "{format:?} {source:?} {requested:?}");
            assert_eq!(c.name_id_format, requested.unwrap_or(format));
        }
        let missing = settings(
            NameIdFormat::Unspecified,
            NameIdSource::User(UserField::EmployeeId),
            vec![],
        );
        assert!(
            map(&missing, None, &u).is_err(),
            "no employeeId: refuse rather than send an empty NameID"
        );
    }

    #[test]
    fn attributes_with_sources_and_transforms() {
        let u = user();
        let s = settings(
            NameIdFormat::EmailAddress,
            NameIdSource::User(UserField::UserPrincipalName),
            vec![
                attr(
                    "mail",
                    ClaimSource::User(UserField::Mail),
                    vec![ClaimTransform::ToLower],
                ),
                attr(
                    "upper",
                    ClaimSource::User(UserField::GivenName),
                    vec![ClaimTransform::ToUpper],
                ),
                attr(
                    "prefix",
                    ClaimSource::User(UserField::UserPrincipalName),
                    vec![ClaimTransform::ExtractMailPrefix],
                ),
                attr(
                    "joined",
                    ClaimSource::User(UserField::MailPrefix),
                    vec![
                        ClaimTransform::ExtractMailPrefix,
                        ClaimTransform::ToLower,
                        ClaimTransform::Join {
                            separator: "@".into(),
                            suffix: "aws.example".into(),
                        },
                    ],
                ),
                attr("groups", ClaimSource::Groups, vec![]),
                attr("roles", ClaimSource::AppRoles, vec![]),
                attr("const", ClaimSource::Constant("v".into()), vec![]),
                attr("surname", ClaimSource::User(UserField::Surname), vec![]),
            ],
        );
        let c = map(&s, None, &u).unwrap();
        let got: Vec<(&str, Vec<&str>)> = c
            .attributes
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("mail", vec!["alice.martin@contoso.example"]),
                ("upper", vec!["ALICE"]),
                ("prefix", vec!["alice"]),
                ("joined", vec!["alice.martin@aws.example"]),
                ("groups", vec!["Sales", "Admins"]),
                ("roles", vec!["Reader"]),
                ("const", vec!["v"]),
            ]
        );
    }
}

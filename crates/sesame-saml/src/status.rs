//! StatusResponseType (SAML core 2.0 §3.2.2): the Status of a Response or LogoutResponse, the
//! common header we write for every response we issue, and the reader for responses SPs send us
//! (LogoutResponse during Single Logout).

use roxmltree::Node;
use time::OffsetDateTime;

use crate::error::{Result, SamlError, StatusCode};
use crate::ns;
use crate::xml::{
    Writer, attr_instant, check_id, format_instant, one_child, opt_child, req_attr, text_trimmed,
};

/// A `<samlp:Status>`: a top-level code, an optional second-level code, an optional message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Top-level StatusCode (core §3.2.2.2).
    pub code: StatusCode,
    /// Nested second-level StatusCode.
    pub sub_code: Option<StatusCode>,
    /// `<samlp:StatusMessage>`: shown to humans by some SPs; never put secrets in it.
    pub message: Option<String>,
}

impl Status {
    /// `Success`.
    #[must_use]
    pub fn success() -> Self {
        Self {
            code: StatusCode::Success,
            sub_code: None,
            message: None,
        }
    }

    /// A status for `code`: a top-level code alone, or a second-level code under the top-level
    /// code it belongs to ([`StatusCode::top_level`]).
    #[must_use]
    pub fn of(code: StatusCode, message: Option<String>) -> Self {
        Self {
            code: code.top_level(),
            sub_code: (!code.is_top_level()).then_some(code),
            message,
        }
    }

    /// Whether the top-level code is Success.
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.code == StatusCode::Success
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.start("samlp:Status").open_end();
        w.start("samlp:StatusCode").attr("Value", self.code.uri());
        match self.sub_code {
            Some(sub) => {
                w.open_end();
                w.start("samlp:StatusCode")
                    .attr("Value", sub.uri())
                    .empty_end();
                w.end("samlp:StatusCode");
            }
            None => {
                w.empty_end();
            }
        }
        if let Some(message) = &self.message {
            w.text_element("samlp:StatusMessage", message);
        }
        w.end("samlp:Status");
    }
}

/// The header of a response we issue (core §3.2.2): ID, Version, IssueInstant, Destination,
/// InResponseTo, then Issuer. Leaves the start tag's children open for the caller.
pub(crate) struct ResponseHeader<'a> {
    pub qname: &'static str,
    pub id: &'a str,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<&'a str>,
    pub in_response_to: Option<&'a str>,
    pub issuer: &'a str,
}

impl ResponseHeader<'_> {
    pub(crate) fn write_start(&self, w: &mut Writer) -> Result<()> {
        check_id("response ID", self.id)?;
        w.start(self.qname)
            .attr("xmlns:samlp", ns::PROTOCOL)
            .attr("xmlns:saml", ns::ASSERTION)
            .attr("ID", self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", &format_instant(self.issue_instant))
            .attr_opt("Destination", self.destination)
            .attr_opt("InResponseTo", self.in_response_to)
            .open_end();
        // Profiles 2.0 §4.1.4.2: Issuer with the entity format (or none, which means the same).
        w.text_element("saml:Issuer", self.issuer);
        Ok(())
    }
}

/// A response an SP sent us (a LogoutResponse during Single Logout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    /// `ID`.
    pub id: String,
    /// `InResponseTo`: the ID of our request.
    pub in_response_to: Option<String>,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`.
    pub destination: Option<String>,
    /// The SP's entityID.
    pub issuer: String,
    /// The Status.
    pub status: Status,
}

pub(crate) fn read_status_response(root: Node<'_, '_>) -> Result<StatusResponse> {
    crate::rules::request_version_is_2_0(req_attr(root, "Version")?)?;
    let issuer = opt_child(root, ns::ASSERTION, "Issuer")?
        .ok_or(SamlError::MissingElement("Issuer"))
        .and_then(text_trimmed)?;
    let status = one_child(root, ns::PROTOCOL, "Status")?;
    let code_node = one_child(status, ns::PROTOCOL, "StatusCode")?;
    let code = status_code(code_node)?;
    // Second-level codes are open-ended (core §3.2.2.2: "other codes MAY be defined"): an
    // unknown one is dropped, the top-level code decides.
    let sub_code =
        opt_child(code_node, ns::PROTOCOL, "StatusCode")?.and_then(|n| status_code(n).ok());
    let message = opt_child(status, ns::PROTOCOL, "StatusMessage")?
        .map(text_trimmed)
        .transpose()?;
    Ok(StatusResponse {
        id: req_attr(root, "ID")?.to_owned(),
        in_response_to: root.attribute("InResponseTo").map(str::to_owned),
        issue_instant: attr_instant(root, "IssueInstant")?
            .ok_or(SamlError::MissingAttribute("IssueInstant"))?,
        destination: root.attribute("Destination").map(str::to_owned),
        issuer,
        status: Status {
            code,
            sub_code,
            message,
        },
    })
}

fn status_code(node: Node<'_, '_>) -> Result<StatusCode> {
    let uri = req_attr(node, "Value")?;
    StatusCode::from_uri(uri).ok_or_else(|| SamlError::InvalidValue {
        what: "StatusCode",
        value: uri.to_owned(),
    })
}

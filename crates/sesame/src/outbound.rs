//! What the server's outbound HTTP clients share (SCIM provisioning, metadata refresh, the
//! logout back channel): where they may go, reading a bounded answer, and saying why a call
//! failed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The answer's body, refused beyond `max` bytes (a peer that sends more is failing).
pub async fn read_capped(resp: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed call in words people can read.
pub fn describe(e: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<Refused>() {
            return refused.to_string();
        }
        source = inner.source();
    }
    if e.is_timeout() {
        "the target did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the target".into()
    } else {
        format!("request failed: {e}")
    }
}

/// Which networks the server's outbound calls may reach (`--outbound-targets`). Their URLs are
/// set by tenant administrators, who should not reach what only the server can: a cloud's
/// metadata service, or (with `public`) the operator's internal network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutboundTargets {
    /// Public unicast addresses only.
    Public,
    /// Public, private (RFC 1918, unique local) and loopback addresses: applications on the
    /// organisation's own network. Never link-local (where cloud metadata services answer),
    /// unspecified, multicast or broadcast addresses.
    #[default]
    Internal,
    /// Any address.
    Any,
}

/// Where an address stands for [`OutboundTargets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Public,
    Internal,
    /// Link-local, unspecified, multicast, broadcast, reserved.
    Special,
}

/// Cloud metadata services outside link-local space: AWS over IPv6, Alibaba Cloud, Azure's
/// WireServer, Oracle Cloud's former address.
const METADATA_SERVICES: [IpAddr; 4] = [
    IpAddr::V6(std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 0, 192)),
];

fn reach(ip: IpAddr) -> Reach {
    if METADATA_SERVICES.contains(&ip) {
        return Reach::Special;
    }
    let v6 = match ip {
        IpAddr::V4(v4) => return reach_v4(v4),
        IpAddr::V6(v6) => v6,
    };
    let s = v6.segments();
    let v4_at = |hi: u16, lo: u16| {
        let ([a, b], [c, d]) = (hi.to_be_bytes(), lo.to_be_bytes());
        Ipv4Addr::new(a, b, c, d)
    };
    // IPv6 addresses that carry an IPv4 one lead to it: mapped (::ffff:0:0/96), compatible
    // (::/96, deprecated), NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16, RFC 3056).
    if let Some(v4) = v6.to_ipv4_mapped() {
        return reach(IpAddr::V4(v4));
    }
    if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified()
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        return reach(IpAddr::V4(v4_at(s[6], s[7])));
    }
    if s[0] == 0x2002 {
        return reach(IpAddr::V4(v4_at(s[1], s[2])));
    }
    let unique_local = (s[0] & 0xfe00) == 0xfc00; // RFC 4193
    let site_local = (s[0] & 0xffc0) == 0xfec0; // deprecated, RFC 3879
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8; // RFC 3849
    // Global unicast is 2000::/3; what else is left (link-local, multicast, the local-use NAT64
    // prefix 64:ff9b:1::/48, discard-only, unassigned) is no application's address.
    let global = (s[0] & 0xe000) == 0x2000;
    if v6.is_loopback() || unique_local || site_local || documentation {
        Reach::Internal
    } else if global {
        Reach::Public
    } else {
        Reach::Special
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    let this_network = a == 0; // RFC 791
    let reserved = a >= 240; // RFC 1112, the broadcast address included
    let shared = a == 100 && (64..128).contains(&b); // RFC 6598
    let benchmarking = a == 198 && (b == 18 || b == 19); // RFC 2544
    let protocol_assignments = a == 192 && b == 0 && c == 0; // RFC 6890
    if this_network || ip.is_link_local() || ip.is_multicast() || reserved {
        Reach::Special
    } else if ip.is_loopback()
        || ip.is_private()
        || shared
        || benchmarking
        || protocol_assignments
        || ip.is_documentation()
    {
        Reach::Internal
    } else {
        Reach::Public
    }
}

impl OutboundTargets {
    pub fn allows(self, ip: IpAddr) -> bool {
        matches!(
            (self, reach(ip)),
            (OutboundTargets::Any, _)
                | (_, Reach::Public)
                | (OutboundTargets::Internal, Reach::Internal)
        )
    }

    fn flag(self) -> &'static str {
        match self {
            OutboundTargets::Public => "public",
            OutboundTargets::Internal => "internal",
            OutboundTargets::Any => "any",
        }
    }

    /// A client builder whose connections reach only allowed addresses (checked on the
    /// addresses the name resolves to, so that a name cannot be pointed elsewhere after a
    /// check), without redirects. URLs with an IP address are checked by [`Self::check_url`].
    pub fn client_builder(self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        match self {
            OutboundTargets::Any => builder,
            // Through a proxy (`HTTPS_PROXY`…) only the proxy's name would be resolved here.
            _ => builder
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver(self))),
        }
    }

    /// Refuses a URL whose host is an IP address outside the allowed networks (names are
    /// checked as they resolve).
    pub fn check_url(self, url: &str) -> Result<(), String> {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Ok(()); // the client says what is wrong with it
        };
        // The URL parser writes IPv4 hosts in dotted decimal, IPv6 ones in brackets.
        let host = parsed.host_str().unwrap_or_default();
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        if self.allows(ip) {
            Ok(())
        } else {
            Err(Refused {
                host: ip.to_string(),
                targets: self,
            }
            .to_string())
        }
    }
}

/// A call refused for where it would go.
#[derive(Debug)]
struct Refused {
    host: String,
    targets: OutboundTargets,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is outside the networks outbound calls may reach (--outbound-targets {})",
            self.host,
            self.targets.flag()
        )
    }
}

impl std::error::Error for Refused {}

/// The system's resolver, keeping only the addresses [`OutboundTargets`] allows.
struct GuardedResolver(OutboundTargets);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let targets = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| targets.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused { host, targets }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted_http::scripted;
    use std::sync::atomic::Ordering;

    #[test]
    fn addresses_are_classed_by_network() {
        let cases: &[(&str, Reach)] = &[
            ("93.184.215.14", Reach::Public),
            ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", Reach::Public),
            ("127.0.0.1", Reach::Internal),
            ("127.255.0.9", Reach::Internal),
            ("10.1.2.3", Reach::Internal),
            ("172.16.0.1", Reach::Internal),
            ("172.31.255.254", Reach::Internal),
            ("172.32.0.1", Reach::Public),
            ("192.168.1.1", Reach::Internal),
            ("100.64.0.1", Reach::Internal),
            ("198.18.0.1", Reach::Internal),
            ("::1", Reach::Internal),
            ("fd12:3456::1", Reach::Internal),
            ("::ffff:10.0.0.1", Reach::Internal),
            ("2002:0a00:0001::1", Reach::Internal),
            ("169.254.169.254", Reach::Special),
            ("::ffff:169.254.169.254", Reach::Special),
            ("2002:a9fe:a9fe::1", Reach::Special),
            ("64:ff9b::a9fe:a9fe", Reach::Special),
            ("::a9fe:a9fe", Reach::Special),
            ("64:ff9b::808:808", Reach::Public),
            ("64:ff9b:1::a9fe:a9fe", Reach::Special),
            ("100::1", Reach::Special),
            ("fd00:ec2::254", Reach::Special),
            ("fd00:ec2::253", Reach::Internal),
            ("100.100.100.200", Reach::Special),
            ("::ffff:100.100.100.200", Reach::Special),
            ("168.63.129.16", Reach::Special),
            ("192.0.0.192", Reach::Special),
            ("fe80::1", Reach::Special),
            ("0.0.0.0", Reach::Special),
            ("0.1.2.3", Reach::Special),
            ("::", Reach::Special),
            ("224.0.0.1", Reach::Special),
            ("ff02::1", Reach::Special),
            ("255.255.255.255", Reach::Special),
            ("240.0.0.1", Reach::Special),
        ];
        for (ip, expected) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(reach(ip), *expected, "{ip}");
            let allowed = [
                OutboundTargets::Public,
                OutboundTargets::Internal,
                OutboundTargets::Any,
            ]
            .map(|t| t.allows(ip));
            let want = match expected {
                Reach::Public => [true, true, true],
                Reach::Internal => [false, true, true],
                Reach::Special => [false, false, true],
            };
            assert_eq!(allowed, want, "{ip}");
        }
    }

    #[test]
    fn urls_with_addresses_are_checked_before_any_call() {
        let internal = OutboundTargets::Internal;
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fe80::1]:8080/scim",
            "http://0.0.0.0:8080/",
            // The URL parser reads other IPv4 spellings as the address they are.
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://2852039166/",
        ] {
            let refused = internal.check_url(url).unwrap_err();
            assert!(
                refused.contains("--outbound-targets internal"),
                "{url}: {refused}"
            );
        }
        for url in [
            "http://127.0.0.1:9/",
            "https://10.0.0.7/scim/v2",
            "https://scim.example.com/v2",
            "not a url",
        ] {
            assert_eq!(internal.check_url(url), Ok(()), "{url}");
        }
        assert!(
            OutboundTargets::Public
                .check_url("http://127.0.0.1:9/")
                .is_err()
        );
        assert_eq!(
            OutboundTargets::Any.check_url("http://169.254.169.254/"),
            Ok(())
        );
    }

    /// A name is checked on the addresses it resolves to: `localhost` is loopback, which
    /// `public` refuses before connecting, and `internal` reaches.
    #[tokio::test]
    async fn names_are_checked_as_they_resolve() {
        let (url, seen) = scripted(vec![
            "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ])
        .await;
        let by_name = url.replace("127.0.0.1", "localhost");
        let public = OutboundTargets::Public.client_builder().build().unwrap();
        let refused = public.get(&by_name).send().await.unwrap_err();
        assert_eq!(
            describe(&refused),
            "localhost is outside the networks outbound calls may reach (--outbound-targets public)"
        );
        assert_eq!(seen.count.load(Ordering::SeqCst), 0, "no connection made");
        let internal = OutboundTargets::Internal.client_builder().build().unwrap();
        let reached = internal.get(&by_name).send().await.unwrap();
        assert_eq!(reached.status().as_u16(), 204);
        assert_eq!(seen.count.load(Ordering::SeqCst), 1);
    }

    /// Each outbound client refuses, before connecting and with the reason, an address URL
    /// outside the allowed networks (it would otherwise be tried, and time out) and a name that
    /// resolves outside them (`localhost` under `public`: the client's own resolver would
    /// reach it).
    #[tokio::test]
    async fn every_client_refuses_before_connecting() {
        for (targets, url) in [
            (OutboundTargets::Internal, "http://169.254.169.254/latest"),
            (OutboundTargets::Public, "http://localhost:9/latest"),
        ] {
            refused_by_every_client(targets, url).await;
        }
    }

    async fn refused_by_every_client(targets: OutboundTargets, url: &str) {
        use sesame_core::metadata_refresh::MetadataFetcher;
        use sesame_core::provisioning::{ScimCall, ScimTransport, target::ScimMethod};
        use sesame_core::slo::SoapClient;
        let says = |e: &str| e.contains("outside the networks outbound calls may reach");
        // Each client is built by `client_builder` (or `localhost` would be tried).
        let soap = crate::soap_client::HttpSoapClient::new(targets).unwrap();
        let e = soap.call(url, String::new()).await.unwrap_err();
        assert!(says(&e), "{e}");
        let scim = crate::scim_transport::HttpScimTransport::new(targets).unwrap();
        let call = ScimCall {
            method: ScimMethod::Get,
            url: url.into(),
            bearer: "secret".into(),
            body: None,
        };
        let e = scim.send(&call).await.unwrap_err();
        assert!(says(&e), "{e}");
        let metadata = crate::metadata::HttpMetadata::new(targets).unwrap();
        let e = metadata.fetch(url).await.unwrap_err();
        assert!(says(&e), "{e}");
    }
}

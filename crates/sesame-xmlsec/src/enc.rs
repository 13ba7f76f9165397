//! XML-Enc of one element (SAML core 2.0 §2.2.4 / §2.3.4: EncryptedID, EncryptedAssertion…):
//! AES-GCM or AES-CBC content, RSA-OAEP key transport.
//!
//! Encryption serializes the element self-contained (every namespace in scope declared on it, so
//! QName values such as `xs:string` keep their meaning and an inner signature still verifies).
//! Decryption parses the plaintext in the namespace context of the EncryptedData position (XML-Enc
//! 1.1 §4.4.3), wrapped in a synthetic element of our own namespace, and hands back a
//! [`Decrypted`] on which the inner signature can then be verified with the usual rules.

use std::ops::Range;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    self, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::Node;

use crate::algorithms::{
    AllowedEncryption, ContentEncryption, DSIG_NS, DigestAlgorithm, KeyTransport, MGF1_SHA1,
    MGF1_SHA256, RSA_OAEP_11, RSA_OAEP_MGF1P, XENC_ELEMENT_TYPE, XENC_NS, XENC11_NS,
};
use crate::c14n::{C14nOptions, escape_attr, exc_c14n};
use crate::error::{Result, XmlSecError};
use crate::keys::{DecryptionKey, EncryptionRecipient};
use crate::select::{ElementPath, has_name};
use crate::strict::{self, Limits, element_prefix, element_text, is_xml_whitespace};
use crate::verify::{Verified, VerifyPolicy, check_unique_ids, verify_element};

/// Namespace of the synthetic element that holds decrypted content.
pub const DECRYPTED_NS: &str = "urn:sesame:xmlsec:decrypted";
const DECRYPTED_LOCAL: &str = "Decrypted";

/// How to encrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptOptions {
    /// Block encryption of the content.
    pub content: ContentEncryption,
    /// RSA-OAEP variant for the session key.
    pub key_transport: KeyTransport,
    /// Wrap the EncryptedData in an element of this local name, in the encrypted element's own
    /// namespace and prefix (`EncryptedAssertion` for a SAML Assertion, `EncryptedID` for a
    /// NameID); `None` writes a bare EncryptedData.
    pub wrap_in: Option<&'static str>,
    /// Bounds on the input document.
    pub limits: Limits,
}

impl Default for EncryptOptions {
    /// AES-256-GCM content, RSA-OAEP-MGF1P key transport, wrapped in `EncryptedAssertion`.
    fn default() -> Self {
        Self {
            content: ContentEncryption::Aes256Gcm,
            key_transport: KeyTransport::RsaOaepMgf1pSha1,
            wrap_in: Some("EncryptedAssertion"),
            limits: Limits::default(),
        }
    }
}

/// Replaces the element at `target` with its encryption for `recipient`; returns the document.
///
/// # Errors
/// Strict-reading and selection errors, `Crypto` if a primitive fails.
pub fn encrypt_element(
    xml: &str,
    target: &ElementPath<'_>,
    recipient: &EncryptionRecipient,
    options: &EncryptOptions,
) -> Result<String> {
    let doc = strict::parse(xml, &options.limits)?;
    let element = target.find(&doc)?;

    // Self-contained serialization: every in-scope prefix (and the default namespace) declared
    // on the apex. Canonical form keeps any inner signature verifiable after decryption.
    let in_scope: Vec<&str> = element
        .namespaces()
        .filter_map(|ns| ns.name())
        .chain(std::iter::once("#default"))
        .collect();
    let mut plaintext = exc_c14n(
        element,
        &C14nOptions {
            with_comments: true,
            inclusive_prefixes: &in_scope,
            exclude: None,
        },
    )?;
    if element.default_namespace().is_none_or(str::is_empty) {
        // The element sits in an empty default namespace; the decryptor's context may not:
        // say so explicitly (Exc-C14N omits xmlns="" on an apex).
        let name_end = 1 + crate::c14n::element_qname(element)?.len();
        if plaintext.is_char_boundary(name_end) {
            plaintext.insert_str(name_end, " xmlns=\"\"");
        }
    }

    let rng = SystemRandom::new();
    let mut key = vec![0u8; options.content.key_len()];
    rng.fill(&mut key)
        .map_err(|_| XmlSecError::Crypto("random session key"))?;
    let cipher_value = encrypt_content(options.content, &key, plaintext.as_bytes(), &rng)?;
    let (oaep, digest, mgf) = match options.key_transport {
        KeyTransport::RsaOaepMgf1pSha1 => (&OAEP_SHA1_MGF1SHA1, DigestAlgorithm::Sha1, None),
        KeyTransport::RsaOaepSha256 => (
            &OAEP_SHA256_MGF1SHA256,
            DigestAlgorithm::Sha256,
            Some(MGF1_SHA256),
        ),
    };
    let mut wrapped = vec![0u8; recipient.key.ciphertext_size()];
    let wrapped = recipient
        .key
        .encrypt(oaep, &key, &mut wrapped, None)
        .map_err(|_| XmlSecError::Crypto("RSA-OAEP encryption"))?;

    let mut out = String::with_capacity(cipher_value.len() * 4 / 3 + 2048);
    let wrapper = options.wrap_in.map(|local| {
        let prefix = element_prefix(element);
        let qname = prefix.map_or_else(|| local.to_owned(), |p| format!("{p}:{local}"));
        (qname, prefix, element.tag_name().namespace().unwrap_or(""))
    });
    if let Some((qname, prefix, ns)) = &wrapper {
        out.push('<');
        out.push_str(qname);
        out.push_str(" xmlns");
        if let Some(p) = prefix {
            out.push(':');
            out.push_str(p);
        }
        out.push_str("=\"");
        escape_attr(ns, &mut out);
        out.push_str("\">");
    }
    out.push_str("<xenc:EncryptedData xmlns:xenc=\"");
    out.push_str(XENC_NS);
    out.push_str("\" Type=\"");
    out.push_str(XENC_ELEMENT_TYPE);
    out.push_str("\"><xenc:EncryptionMethod Algorithm=\"");
    out.push_str(options.content.uri());
    out.push_str("\"/><ds:KeyInfo xmlns:ds=\"");
    out.push_str(DSIG_NS);
    out.push_str("\"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm=\"");
    out.push_str(options.key_transport.uri());
    out.push_str("\"><ds:DigestMethod Algorithm=\"");
    out.push_str(digest.uri());
    out.push_str("\"/>");
    if let Some(mgf) = mgf {
        out.push_str("<xenc11:MGF xmlns:xenc11=\"");
        out.push_str(XENC11_NS);
        out.push_str("\" Algorithm=\"");
        out.push_str(mgf);
        out.push_str("\"/>");
    }
    out.push_str("</xenc:EncryptionMethod>");
    if let Some(cert) = &recipient.cert_b64 {
        out.push_str("<ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
        out.push_str(cert);
        out.push_str("</ds:X509Certificate></ds:X509Data></ds:KeyInfo>");
    }
    out.push_str("<xenc:CipherData><xenc:CipherValue>");
    out.push_str(&B64.encode(wrapped));
    out.push_str("</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>");
    out.push_str("<xenc:CipherData><xenc:CipherValue>");
    out.push_str(&B64.encode(&cipher_value));
    out.push_str("</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>");
    if let Some((qname, _, _)) = &wrapper {
        out.push_str("</");
        out.push_str(qname);
        out.push('>');
    }

    let range = element.range();
    let mut document = String::with_capacity(xml.len() + out.len());
    document.push_str(xml.get(..range.start).unwrap_or_default());
    document.push_str(&out);
    document.push_str(xml.get(range.end..).unwrap_or_default());
    Ok(document)
}

fn encrypt_content(
    alg: ContentEncryption,
    key: &[u8],
    plaintext: &[u8],
    rng: &SystemRandom,
) -> Result<Vec<u8>> {
    let failed = |_| XmlSecError::Crypto("content encryption");
    if alg.is_gcm() {
        // XML-Enc 1.1 §5.2.4: IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes).
        let aead_alg = match alg {
            ContentEncryption::Aes128Gcm => &aead::AES_128_GCM,
            _ => &aead::AES_256_GCM,
        };
        let sealing = LessSafeKey::new(UnboundKey::new(aead_alg, key).map_err(failed)?);
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce).map_err(failed)?;
        let mut buf = Vec::with_capacity(12 + plaintext.len() + 16);
        buf.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        sealing
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut body)
            .map_err(failed)?;
        buf.extend_from_slice(&body);
        Ok(buf)
    } else {
        // XML-Enc 1.1 §5.2.1/§5.2.2: IV (16 bytes) ‖ ciphertext; padding whose last byte gives
        // its length (we write PKCS#7, a valid instance).
        let cbc_alg = match alg {
            ContentEncryption::Aes128Cbc => &cipher::AES_128,
            _ => &cipher::AES_256,
        };
        let encrypting = EncryptingKey::cbc(UnboundCipherKey::new(cbc_alg, key).map_err(failed)?)
            .map_err(failed)?;
        let mut iv = [0u8; 16];
        rng.fill(&mut iv).map_err(failed)?;
        let pad = 16 - plaintext.len() % 16;
        let mut body = Vec::with_capacity(plaintext.len() + pad);
        body.extend_from_slice(plaintext);
        body.resize(plaintext.len() + pad, u8::try_from(pad).unwrap_or(16));
        encrypting
            .less_safe_encrypt(&mut body, EncryptionContext::Iv128(iv.into()))
            .map_err(failed)?;
        let mut buf = Vec::with_capacity(16 + body.len());
        buf.extend_from_slice(&iv);
        buf.extend_from_slice(&body);
        Ok(buf)
    }
}

/// Decrypted content: one element, parsed in the namespace context of its EncryptedData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    xml: String,
    element: Range<usize>,
    limits: Limits,
}

impl Decrypted {
    /// The decrypted element's text, as decrypted.
    #[must_use]
    pub fn element_xml(&self) -> &str {
        self.xml.get(self.element.clone()).unwrap_or_default()
    }

    /// The synthetic document: an element of namespace [`DECRYPTED_NS`] declaring the namespaces
    /// in scope at the EncryptedData, whose single element child is the decrypted element.
    #[must_use]
    pub fn wrapped_xml(&self) -> &str {
        &self.xml
    }

    /// Parses the synthetic document (strictly).
    ///
    /// # Errors
    /// Strict-reading errors.
    pub fn document(&self) -> Result<roxmltree::Document<'_>> {
        strict::parse(&self.xml, &self.limits)
    }

    /// Verifies the enveloped signature of the decrypted element, which must be named
    /// `ns`:`local`, with the rules of [`crate::verify_enveloped`].
    ///
    /// # Errors
    /// As [`crate::verify_enveloped`].
    pub fn verify(
        &self,
        ns: &str,
        local: &str,
        trusted: &crate::TrustedKeys,
        policy: &VerifyPolicy,
    ) -> Result<Verified> {
        let doc = strict::parse(&self.xml, &policy.limits)?;
        check_unique_ids(&doc)?;
        let element = ElementPath::root(DECRYPTED_NS, DECRYPTED_LOCAL)
            .child(ns, local)
            .find(&doc)?;
        verify_element(element, trusted, policy)
    }
}

/// Decrypts the EncryptedData at `target` (or the single EncryptedData child of the element at
/// `target`, e.g. an EncryptedAssertion) with one of `keys`.
///
/// # Errors
/// `EncryptionStructure`, `DisallowedAlgorithm`, `UnsupportedOaepParameters`,
/// `NoDecryptableKey`, `DecryptionFailed`, `DecryptedNotSingleElement`, strict-reading errors.
pub fn decrypt_element(
    xml: &str,
    target: &ElementPath<'_>,
    keys: &[DecryptionKey],
    allowed: &AllowedEncryption,
    limits: &Limits,
) -> Result<Decrypted> {
    let doc = strict::parse(xml, limits)?;
    let node = target.find(&doc)?;
    let data = if has_name(node, XENC_NS, "EncryptedData") {
        node
    } else {
        single_child(node, XENC_NS, "EncryptedData")?
            .ok_or(XmlSecError::EncryptionStructure("no EncryptedData"))?
    };
    if data
        .attribute("Type")
        .is_some_and(|t| t != XENC_ELEMENT_TYPE)
    {
        return Err(XmlSecError::EncryptionStructure("Type is not Element"));
    }
    let method = single_child(data, XENC_NS, "EncryptionMethod")?
        .ok_or(XmlSecError::EncryptionStructure("no EncryptionMethod"))?;
    let content = allowed.content(
        method
            .attribute("Algorithm")
            .ok_or(XmlSecError::EncryptionStructure("no Algorithm"))?,
    )?;

    // EncryptedKey inside the EncryptedData's KeyInfo, or beside it in the wrapper (SAML core
    // 2.0 §2.2.4 allows both).
    let mut encrypted_keys: Vec<Node<'_, '_>> = Vec::new();
    if let Some(key_info) = single_child(data, DSIG_NS, "KeyInfo")? {
        encrypted_keys.extend(
            key_info
                .children()
                .filter(|c| has_name(*c, XENC_NS, "EncryptedKey")),
        );
    }
    if node != data {
        encrypted_keys.extend(
            node.children()
                .filter(|c| has_name(*c, XENC_NS, "EncryptedKey")),
        );
    }
    if encrypted_keys.is_empty() {
        return Err(XmlSecError::EncryptionStructure("no EncryptedKey"));
    }
    let mut session_key = None;
    for ek in encrypted_keys {
        if let Some(key) = unwrap_key(ek, keys, content.key_len())? {
            session_key = Some(key);
            break;
        }
    }
    let session_key = session_key.ok_or(XmlSecError::NoDecryptableKey)?;

    let cipher_value = cipher_value(data)?;
    let plaintext = decrypt_content(content, &session_key, cipher_value)?;
    let plaintext = String::from_utf8(plaintext).map_err(|_| XmlSecError::DecryptionFailed)?;
    wrap_in_context(data, &plaintext, limits)
}

/// The single child `ns`:`local` of `node`, if any; two is an error.
fn single_child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Result<Option<Node<'a, 'i>>> {
    let mut it = node.children().filter(|c| has_name(*c, ns, local));
    let first = it.next();
    if it.next().is_some() {
        return Err(XmlSecError::EncryptionStructure("duplicate child element"));
    }
    Ok(first)
}

fn cipher_value(node: Node<'_, '_>) -> Result<Vec<u8>> {
    let data = single_child(node, XENC_NS, "CipherData")?
        .ok_or(XmlSecError::EncryptionStructure("no CipherData"))?;
    let value = single_child(data, XENC_NS, "CipherValue")?
        .ok_or(XmlSecError::EncryptionStructure("no CipherValue"))?;
    let text: String = element_text(value)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    B64.decode(text)
        .map_err(|_| XmlSecError::Base64("CipherValue"))
}

/// Tries our keys on one EncryptedKey; `Ok(None)` when none of them opens it.
fn unwrap_key(ek: Node<'_, '_>, keys: &[DecryptionKey], key_len: usize) -> Result<Option<Vec<u8>>> {
    let method = single_child(ek, XENC_NS, "EncryptionMethod")?
        .ok_or(XmlSecError::EncryptionStructure("no EncryptionMethod"))?;
    let uri = method
        .attribute("Algorithm")
        .ok_or(XmlSecError::EncryptionStructure("no Algorithm"))?;
    let digest = single_child(method, DSIG_NS, "DigestMethod")?
        .and_then(|d| d.attribute("Algorithm"))
        .unwrap_or(DigestAlgorithm::Sha1.uri());
    let mgf = single_child(method, XENC11_NS, "MGF")?
        .and_then(|m| m.attribute("Algorithm"))
        .unwrap_or(MGF1_SHA1);
    let label = match single_child(method, XENC_NS, "OAEPparams")? {
        Some(p) => Some(
            B64.decode(element_text(p)?.trim())
                .map_err(|_| XmlSecError::Base64("OAEPparams"))?,
        ),
        None => None,
    };
    // XML-Enc 1.1 §5.5.2: rsa-oaep-mgf1p fixes MGF1-SHA1; rsa-oaep names both. RSA-1_5 is
    // refused outright (Bleichenbacher oracles).
    let sha1 = DigestAlgorithm::Sha1.uri();
    let sha256 = DigestAlgorithm::Sha256.uri();
    let oaep: &'static OaepAlgorithm = match uri {
        RSA_OAEP_MGF1P if digest == sha1 => &OAEP_SHA1_MGF1SHA1,
        RSA_OAEP_11 if digest == sha1 && mgf == MGF1_SHA1 => &OAEP_SHA1_MGF1SHA1,
        RSA_OAEP_11 if digest == sha256 && mgf == MGF1_SHA256 => &OAEP_SHA256_MGF1SHA256,
        RSA_OAEP_MGF1P | RSA_OAEP_11 => {
            return Err(XmlSecError::UnsupportedOaepParameters(
                "only SHA-1/MGF1-SHA1 and SHA-256/MGF1-SHA256",
            ));
        }
        other => {
            return Err(XmlSecError::DisallowedAlgorithm {
                role: "EncryptedKey EncryptionMethod",
                uri: other.to_owned(),
            });
        }
    };
    let wrapped = cipher_value(ek)?;
    for key in keys {
        let mut out = vec![0u8; key.key.min_output_size()];
        if let Ok(plain) = key.key.decrypt(oaep, &wrapped, &mut out, label.as_deref())
            && plain.len() == key_len
        {
            return Ok(Some(plain.to_vec()));
        }
    }
    Ok(None)
}

fn decrypt_content(alg: ContentEncryption, key: &[u8], data: Vec<u8>) -> Result<Vec<u8>> {
    let failed = |_| XmlSecError::DecryptionFailed;
    let mut data = data;
    if alg.is_gcm() {
        let aead_alg = match alg {
            ContentEncryption::Aes128Gcm => &aead::AES_128_GCM,
            _ => &aead::AES_256_GCM,
        };
        if data.len() < 12 + 16 {
            return Err(XmlSecError::DecryptionFailed);
        }
        let mut body = data.split_off(12);
        let nonce = Nonce::try_assume_unique_for_key(&data).map_err(failed)?;
        let opening = LessSafeKey::new(UnboundKey::new(aead_alg, key).map_err(failed)?);
        let plain = opening
            .open_in_place(nonce, Aad::empty(), &mut body)
            .map_err(failed)?;
        let len = plain.len();
        body.truncate(len);
        Ok(body)
    } else {
        let cbc_alg = match alg {
            ContentEncryption::Aes128Cbc => &cipher::AES_128,
            _ => &cipher::AES_256,
        };
        if data.len() < 32 || !data.len().is_multiple_of(16) {
            return Err(XmlSecError::DecryptionFailed);
        }
        let mut body = data.split_off(16);
        let iv: [u8; 16] = data
            .as_slice()
            .try_into()
            .map_err(|_| XmlSecError::DecryptionFailed)?;
        let decrypting = DecryptingKey::cbc(UnboundCipherKey::new(cbc_alg, key).map_err(failed)?)
            .map_err(failed)?;
        let len = decrypting
            .decrypt(&mut body, DecryptionContext::Iv128(iv.into()))
            .map_err(failed)?
            .len();
        // XML-Enc padding: only the last byte is meaningful (1..=16).
        let pad = usize::from(
            *body
                .get(len.wrapping_sub(1))
                .ok_or(XmlSecError::DecryptionFailed)?,
        );
        if pad == 0 || pad > 16 || pad > len {
            return Err(XmlSecError::DecryptionFailed);
        }
        body.truncate(len - pad);
        Ok(body)
    }
}

/// Wraps the plaintext in an element declaring the namespaces in scope at `data`, parses it,
/// and checks it holds exactly one element.
fn wrap_in_context(data: Node<'_, '_>, plaintext: &str, limits: &Limits) -> Result<Decrypted> {
    let prefixes: Vec<_> = data.namespaces().collect();
    let mut wrapper_prefix = String::from("sxd");
    while prefixes
        .iter()
        .any(|ns| ns.name() == Some(wrapper_prefix.as_str()))
    {
        wrapper_prefix.push('x');
    }
    let mut xml = String::with_capacity(plaintext.len() + 512);
    xml.push('<');
    xml.push_str(&wrapper_prefix);
    xml.push(':');
    xml.push_str(DECRYPTED_LOCAL);
    xml.push_str(" xmlns:");
    xml.push_str(&wrapper_prefix);
    xml.push_str("=\"");
    xml.push_str(DECRYPTED_NS);
    xml.push('"');
    for ns in &prefixes {
        match ns.name() {
            Some("xml") => continue,
            Some(p) => {
                xml.push_str(" xmlns:");
                xml.push_str(p);
            }
            None => xml.push_str(" xmlns"),
        }
        xml.push_str("=\"");
        escape_attr(ns.uri(), &mut xml);
        xml.push('"');
    }
    xml.push('>');
    let start = xml.len();
    xml.push_str(plaintext);
    let end = xml.len();
    xml.push_str("</");
    xml.push_str(&wrapper_prefix);
    xml.push(':');
    xml.push_str(DECRYPTED_LOCAL);
    xml.push('>');

    let doc = strict::parse(&xml, limits)?;
    let mut elements = 0;
    for child in doc.root_element().children() {
        if child.is_element() {
            elements += 1;
        } else if child.is_text() && !is_xml_whitespace(child.text().unwrap_or("")) {
            return Err(XmlSecError::DecryptedNotSingleElement);
        }
    }
    if elements != 1 {
        return Err(XmlSecError::DecryptedNotSingleElement);
    }
    drop(doc);
    Ok(Decrypted {
        xml,
        element: start..end,
        limits: *limits,
    })
}

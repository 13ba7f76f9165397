#!/usr/bin/env python3
"""pysaml2 as a real SAML service provider peer for sesame-saml's tests.

  pysaml2_peer.py gen OUTDIR
      Writes real pysaml2 messages: SP metadata, AuthnRequests (Redirect unsigned and signed,
      POST unsigned and signed) and LogoutRequests (Redirect signed, POST signed). Run by hand
      to refresh crates/sesame-saml/testdata/pysaml2/ (the Rust tests read the files).

  pysaml2_peer.py parse-response IDP_METADATA RESPONSE_B64_FILE REQUEST_ID
      Parses a Response issued by sesame-saml as a pysaml2 SP that trusts IDP_METADATA and
      prints a JSON summary (NameID, attributes, issuer). Exit 1 on any validation error.

Keys are the test-only ones under crates/sesame-saml/testdata/keys.
"""
import base64
import json
import os
import sys
import tempfile

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.sigver import SIG_RSA_SHA256
from saml2.xmldsig import DIGEST_SHA256

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "..", "testdata", "keys")
SP = "https://sp.pysaml2.example/metadata"
IDP = "https://idp.sesame.example/tenant/"
SSO = "https://idp.sesame.example/tenant/saml2"
ACS = "https://sp.pysaml2.example/acs/post"
SLO = "https://sp.pysaml2.example/slo"

IDP_METADATA_FOR_GEN = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{idp}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>
</md:IDPSSODescriptor></md:EntityDescriptor>
"""


def cert_b64(name):
    with open(os.path.join(KEYS, name)) as f:
        body = f.read()
    return "".join(l for l in body.splitlines() if "-----" not in l)


def sp_config(idp_metadata_path, sign_requests):
    conf = {
        "entityid": SP,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "key_file": os.path.join(KEYS, "sp.key.pem"),
        "cert_file": os.path.join(KEYS, "sp.cert.pem"),
        "encryption_keypairs": [
            {"key_file": os.path.join(KEYS, "sp.key.pem"), "cert_file": os.path.join(KEYS, "sp.cert.pem")}
        ],
        "metadata": {"local": [idp_metadata_path]},
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(ACS, BINDING_HTTP_POST)],
                    "single_logout_service": [(SLO + "/redirect", BINDING_HTTP_REDIRECT), (SLO + "/post", BINDING_HTTP_POST)],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS],
                "authn_requests_signed": sign_requests,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": True,
                "logout_requests_signed": True,
            }
        },
    }
    c = SPConfig()
    c.load(conf)
    return c


def write(outdir, name, content):
    with open(os.path.join(outdir, name), "w") as f:
        f.write(content)


def query_of(info):
    location = dict(info["headers"])["Location"]
    return location.split("?", 1)[1]


def form_value(info, field):
    html = info["data"]
    marker = 'name="%s" value="' % field
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def gen(outdir):
    os.makedirs(outdir, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(IDP_METADATA_FOR_GEN.format(idp=IDP, sso=SSO, cert=cert_b64("idp.cert.pem")))
        idp_md = f.name
    conf = sp_config(idp_md, True)
    write(outdir, "sp_metadata.xml", create_metadata_string(None, config=conf, sign=False).decode())

    client = Saml2Client(conf)
    # Redirect, unsigned.
    _, req = client.create_authn_request(SSO, binding=BINDING_HTTP_POST, sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(req), SSO, relay_state="/after?x=1&y=2", sign=False)
    write(outdir, "authn_redirect_unsigned.query", query_of(info))
    # Redirect, signed in the query string.
    _, req = client.create_authn_request(SSO, binding=BINDING_HTTP_POST, sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(req), SSO, relay_state="rs-redirect", sign=True, sigalg=SIG_RSA_SHA256)
    write(outdir, "authn_redirect_signed.query", query_of(info))
    # POST, unsigned and enveloped-signed.
    _, req = client.create_authn_request(SSO, binding=BINDING_HTTP_POST, sign=False)
    info = client.apply_binding(BINDING_HTTP_POST, str(req), SSO, relay_state="rs-post", sign=False)
    write(outdir, "authn_post_unsigned.b64", form_value(info, "SAMLRequest"))
    _, req = client.create_authn_request(SSO, binding=BINDING_HTTP_POST, sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    info = client.apply_binding(BINDING_HTTP_POST, str(req), SSO, relay_state="rs-post", sign=False)
    write(outdir, "authn_post_signed.b64", form_value(info, "SAMLRequest"))

    # LogoutRequests.
    name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text="u-1234", name_qualifier=IDP, sp_name_qualifier=SP)
    _, lreq = client.create_logout_request(SSO, IDP, name_id=name_id, session_indexes=["_s1"], sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(lreq), SSO, relay_state="lo", sign=True, sigalg=SIG_RSA_SHA256)
    write(outdir, "logout_redirect_signed.query", query_of(info))
    _, lreq = client.create_logout_request(SSO, IDP, name_id=name_id, session_indexes=["_s1"], sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    info = client.apply_binding(BINDING_HTTP_POST, str(lreq), SSO, relay_state="lo", sign=False)
    write(outdir, "logout_post_signed.b64", form_value(info, "SAMLRequest"))
    # pysaml2's default digest is SHA-1: refused unless SHA-1 is allowed for the SP.
    _, lreq = client.create_logout_request(SSO, IDP, name_id=name_id, session_indexes=["_s1"], sign=True, sign_alg=SIG_RSA_SHA256)
    info = client.apply_binding(BINDING_HTTP_POST, str(lreq), SSO, relay_state="lo", sign=False)
    write(outdir, "logout_post_signed_sha1_digest.b64", form_value(info, "SAMLRequest"))
    os.unlink(idp_md)


def parse_response(idp_metadata, response_file, request_id):
    conf = sp_config(idp_metadata, False)
    client = Saml2Client(conf)
    with open(response_file) as f:
        b64 = f.read().strip()
    outstanding = {request_id: "/"} if request_id != "-" else {}
    resp = client.parse_authn_request_response(b64, BINDING_HTTP_POST, outstanding)
    if resp is None:
        print("no response", file=sys.stderr)
        sys.exit(1)
    ava = resp.get_identity()
    subject = resp.get_subject()
    # get_identity() keeps only attributes its converters know; report the raw ones too.
    raw = {}
    for statement in resp.assertion.attribute_statement:
        for attr in statement.attribute:
            raw[attr.name] = [v.text for v in attr.attribute_value]
    print(json.dumps({
        "raw_attributes": raw,
        "issuer": resp.issuer(),
        "name_id": subject.text,
        "name_id_format": subject.format,
        "attributes": ava,
        "session_index": resp.session_info().get("session_index"),
    }, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "parse-response":
        parse_response(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)

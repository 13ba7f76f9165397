#!/usr/bin/env python3
"""A pysaml2 service provider on loopback, for Sésame's interoperability tests.

    pysaml2_sp.py metadata --dir DIR --port PORT [--entity-id ID] [--host ADDR]
        creates DIR/sp-signing-{key,cert}.pem and DIR/sp-encrypt-{key,cert}.pem if missing and
        prints the SP's metadata (ACS HTTP-POST, SLO Redirect, POST and SOAP, both certificates).
    pysaml2_sp.py serve --dir DIR --port PORT --idp-metadata FILE [--entity-id ID] [--host ADDR]
        serves, on ADDR:PORT (127.0.0.1 by default; another loopback address puts the SP on
        another site than Sésame, for a browser's SameSite rules; --public-url URL when a TLS
        terminator in front of it is what browsers reach):
          /login?binding=redirect|post&sign=0|1&acs=URL&relay=STATE&force=0|1&passive=0|1
                       SP-initiated sign-in (AuthnRequest; `acs` overrides the ACS URL it names)
          /acs         HTTP-POST AssertionConsumerService (solicited and unsolicited Responses);
                       then /protected, or the RelayState when it is an absolute URL
          /protected   text/plain `key=value` lines (nameid, nameid_format, attr.NAME, ...) or a
                       redirect to /login when there is no session
          /logout?binding=redirect|post|soap
                       SP-initiated single logout (a signed LogoutRequest; over SOAP the SP
                       sends it itself, server to server)
          /slo         SingleLogoutService (Redirect and POST): LogoutResponses and LogoutRequests
          /slo/soap    SingleLogoutService (SOAP): the IdP's back-channel LogoutRequests
          /metadata    the SP's metadata
          /reload      re-reads the IdP's metadata file (certificate rollover)
        and prints `ready` on stdout when it listens. Logs go to stderr.

Sessions are in memory, keyed by a cookie whose name carries the port (cookies ignore ports).
"""

import argparse
import base64
import html
import logging
import os
import secrets
import subprocess
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

XMLSEC1 = "/usr/bin/xmlsec1"

# pysaml2 reads a SOAP message by re-serializing the body's element with ElementTree, which
# renames prefixes it has not registered (ns0, ns1, ...). Exclusive C14N keeps prefixes, so
# that breaks the signature of any message not written by pysaml2 itself: a pysaml2
# deployment taking SOAP logouts from another IdP registers the prefixes that IdP uses.
for _prefix, _uri in (("samlp", "urn:oasis:names:tc:SAML:2.0:protocol"),
                      ("saml", "urn:oasis:names:tc:SAML:2.0:assertion"),
                      ("ds", "http://www.w3.org/2000/09/xmldsig#")):
    ElementTree.register_namespace(_prefix, _uri)


def ensure_keys(d):
    os.makedirs(d, exist_ok=True)
    for use in ("signing", "encrypt"):
        key = os.path.join(d, f"sp-{use}-key.pem")
        cert = os.path.join(d, f"sp-{use}-cert.pem")
        if not os.path.exists(key):
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                 "-sha256", "-subj", f"/CN=127.0.0.1/O=sesame-interop-pysaml2-{use}",
                 "-keyout", key, "-out", cert],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_config(args, idp_metadata=None):
    base = args.public_url or f"http://{args.host}:{args.port}"
    d = os.path.abspath(args.dir)
    conf = {
        "entityid": args.entity_id or f"{base}/sp",
        "xmlsec_binary": XMLSEC1,
        "key_file": os.path.join(d, "sp-signing-key.pem"),
        "cert_file": os.path.join(d, "sp-signing-cert.pem"),
        "encryption_keypairs": [{
            "key_file": os.path.join(d, "sp-encrypt-key.pem"),
            "cert_file": os.path.join(d, "sp-encrypt-cert.pem"),
        }],
        "allow_unknown_attributes": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "service": {
            "sp": {
                "name": "pysaml2 interop SP",
                "endpoints": {
                    "assertion_consumer_service": [(f"{base}/acs", BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (f"{base}/slo", BINDING_HTTP_REDIRECT),
                        (f"{base}/slo", BINDING_HTTP_POST),
                        (f"{base}/slo/soap", BINDING_SOAP),
                    ],
                },
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "allow_unsolicited": True,
                "authn_requests_signed": False,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "want_assertions_or_response_signed": True,
            }
        },
    }
    if idp_metadata:
        conf["metadata"] = {"local": [idp_metadata]}
    c = SPConfig()
    c.load(conf)
    return c


class State:
    def __init__(self, args):
        self.args = args
        self.sessions = {}  # cookie value -> dict
        self.outstanding = {}  # request id -> url
        self.cookie = f"pysaml2_sp_{args.port}"
        self.reload()

    def reload(self):
        self.client = Saml2Client(config=make_config(self.args, self.args.idp_metadata))
        self.idp = next(iter(self.client.metadata.identity_providers()))


def text(handler, status, body, headers=()):
    data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    for k, v in headers:
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


def send_http_info(handler, info, extra_headers=()):
    """Sends what pysaml2's apply_binding produced: a redirect or an auto-posting form."""
    headers = list(info.get("headers", [])) + list(extra_headers)
    location = [v for k, v in headers if k.lower() == "location"]
    data = info.get("data", "") or ""
    if isinstance(data, list):
        data = "".join(data)
    if location:
        handler.send_response(303)
    else:
        handler.send_response(info.get("status", 200) or 200)
    has_type = False
    for k, v in headers:
        has_type |= k.lower() == "content-type"
        handler.send_header(k, v)
    body = data.encode()
    if not has_type:
        handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Handler(BaseHTTPRequestHandler):
    state: State = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("pysaml2_sp: " + (fmt % a) + "\n")

    def session(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == self.state.cookie and v in self.state.sessions:
                return v, self.state.sessions[v]
        return None, None

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(n).decode()).items()}

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            self.route(url.path, q, "GET")
        except Exception as e:  # shown to the test, which prints it
            logging.exception("error on %s", self.path)
            text(self, 500, f"pysaml2_sp error: {type(e).__name__}: {e}\n")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        try:
            if url.path == "/slo/soap":
                n = int(self.headers.get("Content-Length") or 0)
                self.soap_logout(self.rfile.read(n).decode())
            else:
                self.route(url.path, self.form(), "POST")
        except Exception as e:
            logging.exception("error on %s", self.path)
            text(self, 500, f"pysaml2_sp error: {type(e).__name__}: {e}\n")

    def logout_status(self, resp, signed=None):
        """Shows the IdP's LogoutResponse (and, when told, whether it was signed: pysaml2
        verifies a signature when there is one) and ends the SP's session cookie."""
        status = resp.response.status.status_code.value
        nested = resp.response.status.status_code.status_code
        sub_status = nested.value if nested is not None else None
        ok = status == "urn:oasis:names:tc:SAML:2.0:status:Success"
        text(self, 200 if ok else 400,
             f"logged_out={'yes' if ok else 'no'}\nstatus={status}\nsub_status={sub_status}\n"
             f"issuer={resp.issuer()}\nin_response_to={resp.in_response_to}\n"
             + ("" if signed is None else f"signed={'yes' if signed else 'no'}\n"),
             [("Set-Cookie", f"{self.state.cookie}=; Path=/; Max-Age=0")])

    def soap_logout(self, envelope):
        """The IdP's back-channel LogoutRequest (SOAP binding): pysaml2 checks its signature and
        Destination, the sessions of its NameID end, and a signed LogoutResponse goes back in
        the HTTP response."""
        st = self.state
        req = st.client.parse_logout_request(envelope, BINDING_SOAP)
        name_id = req.message.name_id
        indexes = {i.text for i in (req.message.session_index or [])}
        ended = 0
        for sid, s in list(st.sessions.items()):
            # The sessions of that NameID; of those SessionIndex values when it names some
            # (SAML core §3.7.3.2).
            if s["nameid"] == (name_id.text if name_id is not None else None) and (
                    not indexes or s["session_index"] in indexes):
                del st.sessions[sid]
                ended += 1
        sys.stderr.write(f"pysaml2_sp: SOAP logout of {name_id.text if name_id is not None else None}: "
                         f"{ended} session(s) ended\n")
        info = st.client.handle_logout_request(
            envelope, name_id, BINDING_SOAP, sign=True, sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256)
        data = info.get("data", "")
        if isinstance(data, bytes):
            data = data.decode()
        body = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route(self, path, q, method):
        st = self.state
        if path == "/metadata":
            data = create_metadata_string(None, config=make_config(st.args), valid=24).decode()
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(data.encode())))
            self.end_headers()
            self.wfile.write(data.encode())
        elif path == "/reload":
            st.reload()
            text(self, 200, "reloaded\n")
        elif path == "/login":
            binding = BINDING_HTTP_POST if q.get("binding") == "post" else BINDING_HTTP_REDIRECT
            kwargs = {}
            if q.get("acs"):
                kwargs["assertion_consumer_service_url"] = q["acs"]
            if q.get("force") == "1":
                kwargs["force_authn"] = "true"
            if q.get("passive") == "1":
                kwargs["is_passive"] = "true"
            sign = q.get("sign") == "1"
            reqid, info = st.client.prepare_for_authenticate(
                entityid=st.idp, relay_state=q.get("relay", ""), binding=binding,
                sign=sign, sigalg=SIG_RSA_SHA256 if sign else None,
                digest_alg=DIGEST_SHA256 if sign else None, **kwargs)
            st.outstanding[reqid] = "/protected"
            send_http_info(self, info)
        elif path == "/acs" and method == "POST":
            try:
                resp = st.client.parse_authn_request_response(
                    q["SAMLResponse"], BINDING_HTTP_POST, outstanding=st.outstanding)
            except StatusError as e:
                # A non-success status (NoPassive, Responder...): shown, no session.
                text(self, 403, f"status_error={type(e).__name__}: {e}\n")
                return
            if resp is None:
                text(self, 400, "pysaml2_sp: no valid Response\n")
                return
            nid = resp.name_id
            sid = secrets.token_hex(16)
            st.sessions[sid] = {
                "name_id": nid,
                "nameid": nid.text if nid is not None else "",
                "nameid_format": nid.format if nid is not None else "",
                "issuer": resp.issuer(),
                "in_response_to": resp.in_response_to or "",
                "session_index": resp.session_info().get("session_index") or "",
                "attributes": resp.get_identity(),
                "relay_state": q.get("RelayState", ""),
                "encrypted": b"EncryptedAssertion" in base64.b64decode(q["SAMLResponse"]),
            }
            # A RelayState that is an absolute URL is where the user goes next, as many SPs do
            # (AWS's ACS sends the browser on to another host): the redirect that follows the
            # Response page's POST leaves the ACS's origin.
            relay = q.get("RelayState", "")
            landing = relay if relay.startswith(("http://", "https://")) else "/protected"
            self.send_response(303)
            self.send_header("Location", landing)
            self.send_header("Set-Cookie", f"{st.cookie}={sid}; Path=/; HttpOnly")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/protected":
            _, s = self.session()
            if s is None:
                self.send_response(302)
                self.send_header("Location", "/login")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            lines = ["protected=yes"]
            for k in ("nameid", "nameid_format", "issuer", "in_response_to", "session_index",
                      "relay_state", "encrypted"):
                lines.append(f"{k}={s[k]}")
            for name, values in sorted(s["attributes"].items()):
                for v in values:
                    lines.append(f"attr.{name}={v}")
            text(self, 200, "\n".join(lines) + "\n")
        elif path == "/logout" and q.get("binding") == "soap":
            # Server to server: pysaml2 POSTs its signed LogoutRequest to the IdP's SOAP
            # endpoint and reads (and verifies) the LogoutResponse in the HTTP answer.
            sid, s = self.session()
            if s is None:
                text(self, 400, "pysaml2_sp: no session to log out\n")
                return
            responses = st.client.do_logout(
                s["name_id"], [st.idp], reason="", expire=None, sign=True,
                expected_binding=BINDING_SOAP, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
            resp = responses.get(st.idp) if isinstance(responses, dict) else None
            if resp is None:
                text(self, 400, f"pysaml2_sp: no valid SOAP LogoutResponse: {responses!r}\n")
                return
            st.sessions.pop(sid, None)
            self.logout_status(resp, signed=resp.response.signature is not None)
        elif path == "/logout":
            sid, s = self.session()
            if s is None:
                text(self, 400, "pysaml2_sp: no session to log out\n")
                return
            binding = BINDING_HTTP_POST if q.get("binding") == "post" else BINDING_HTTP_REDIRECT
            responses = st.client.do_logout(
                s["name_id"], [st.idp], reason="", expire=None, sign=True,
                expected_binding=binding, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
            if not isinstance(responses, dict) or st.idp not in responses:
                text(self, 500, f"pysaml2_sp: logout not started: {responses!r}\n")
                return
            _binding, info = responses[st.idp]
            send_http_info(self, info)
        elif path == "/slo":
            binding = BINDING_HTTP_POST if method == "POST" else BINDING_HTTP_REDIRECT
            if "SAMLResponse" in q:
                resp = st.client.parse_logout_request_response(q["SAMLResponse"], binding)
                if resp is None:
                    text(self, 400, "pysaml2_sp: invalid LogoutResponse\n")
                    return
                sid, _ = self.session()
                st.sessions.pop(sid, None)
                self.logout_status(resp)
            elif "SAMLRequest" in q:
                # The IdP propagates a logout started elsewhere.
                req = st.client.parse_logout_request(
                    q["SAMLRequest"], binding, relay_state=q.get("RelayState"),
                    sigalg=q.get("SigAlg"), signature=q.get("Signature"))
                name_id = req.message.name_id
                for sid, s in list(st.sessions.items()):
                    if s["nameid"] == (name_id.text if name_id is not None else None):
                        del st.sessions[sid]
                info = st.client.handle_logout_request(
                    q["SAMLRequest"], name_id, binding, sign=True, sign_alg=SIG_RSA_SHA256,
                    digest_alg=DIGEST_SHA256,
                    relay_state=q.get("RelayState"), sigalg=q.get("SigAlg"),
                    signature=q.get("Signature"))
                send_http_info(self, info)
            else:
                text(self, 400, "pysaml2_sp: /slo without a SAML message\n")
        else:
            text(self, 404, "pysaml2_sp: not found\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["metadata", "serve"])
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--entity-id")
    p.add_argument("--idp-metadata")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--public-url", help="the SP's URL when a TLS terminator is in front of it")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="pysaml2_sp %(levelname)s %(name)s: %(message)s")
    ensure_keys(args.dir)
    if args.command == "metadata":
        sys.stdout.write(create_metadata_string(None, config=make_config(args), valid=24).decode())
        return
    if not args.idp_metadata:
        p.error("serve needs --idp-metadata")
    Handler.state = State(args)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

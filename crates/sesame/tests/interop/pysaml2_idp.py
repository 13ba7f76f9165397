#!/usr/bin/env python3
"""A pysaml2 identity provider on loopback, for Sésame's federation interoperability tests.

    pysaml2_idp.py serve --dir DIR --port PORT --sp-metadata FILE --user NAME --password PW \
                         --email EMAIL --immutable-id ID
        creates DIR/idp-{key,cert}.pem if missing, then serves on 127.0.0.1:PORT:
          /sso     SingleSignOnService (HTTP-POST and HTTP-Redirect): reads the AuthnRequest and
                   shows a sign-in form (username, password)
          /signin  checks the credentials, opens a session (cookie `pysaml2_idp_session`) and
                   answers the auto-posting form of a Response: persistent NameID = the
                   immutable ID, the e-mail as IDPEmail and as the emailaddress claim,
                   assertion signed with RSA-SHA256; /sso answers so at once while the
                   session lasts
          /slo     SingleLogoutService (HTTP-Redirect): takes a LogoutRequest only if its
                   query-string signature verifies with the SP's metadata and it names the
                   NameID this IdP issued; ends the session and redirects to the SP's
                   SingleLogoutService with a signed LogoutResponse
        and prints `ready` on stdout when it listens. Its entityID is http://127.0.0.1:PORT/idp.
"""

import argparse
import html
import logging
import os
import secrets
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from http.cookies import SimpleCookie

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

XMLSEC1 = "/usr/bin/xmlsec1"
# The claim guests are matched by (seed 002), next to IDPEmail (seed 001).
EMAIL_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
# Not a name of Sésame's: cookies are shared by every port of 127.0.0.1.
SESSION_COOKIE = "pysaml2_idp_session"


def ensure_keys(d):
    os.makedirs(d, exist_ok=True)
    key, cert = os.path.join(d, "idp-key.pem"), os.path.join(d, "idp-cert.pem")
    if not os.path.exists(key):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-sha256",
             "-subj", "/CN=127.0.0.1/O=sesame-interop-pysaml2-idp", "-keyout", key, "-out", cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def make_server(args):
    base = f"http://127.0.0.1:{args.port}"
    key, cert = ensure_keys(os.path.abspath(args.dir))
    conf = IdPConfig()
    conf.load({
        "entityid": f"{base}/idp",
        "xmlsec_binary": XMLSEC1,
        "key_file": key,
        "cert_file": cert,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "metadata": {"local": [args.sp_metadata]},
        "service": {
            "idp": {
                "name": "pysaml2 interop IdP",
                "endpoints": {
                    "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_POST),
                                               (f"{base}/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{base}/slo", BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 15}}},
            },
        },
    })
    return Server(config=conf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["serve"])
    for opt in ("--dir", "--sp-metadata", "--user", "--password", "--email", "--immutable-id"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    idp = make_server(args)
    pending = {}
    sessions = set()
    # pysaml2 has one switch for every request's signature (`want_authn_requests_signed`):
    # Sésame's AuthnRequests are unsigned, its LogoutRequests signed, so it is on while a
    # LogoutRequest is read only, and every request is read under this lock.
    signed_only = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            sys.stderr.write("pysaml2-idp: " + (fmt % a) + "\n")

        def reply(self, status, body, ctype="text/html; charset=utf-8", headers=()):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def params(self):
            url = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            if self.command == "POST":
                n = int(self.headers.get("Content-Length") or 0)
                q.update(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
            return url.path, q

        def session(self):
            jar = SimpleCookie(self.headers.get("Cookie") or "")
            token = jar[SESSION_COOKIE].value if SESSION_COOKIE in jar else None
            return token if token in sessions else None

        def sso(self, q):
            binding = BINDING_HTTP_POST if self.command == "POST" else BINDING_HTTP_REDIRECT
            try:
                with signed_only:
                    req = idp.parse_authn_request(q["SAMLRequest"], binding)
            except Exception as e:  # a peer's refusal, shown as a page
                return self.reply(400, f"<p>bad AuthnRequest: {html.escape(str(e))}</p>")
            if self.session() is not None:
                return self.answer(req.message, q.get("RelayState"))
            token = secrets.token_urlsafe(16)
            pending[token] = (req.message, q.get("RelayState"))
            self.reply(200, f"""<!DOCTYPE html><html><body><h1>Partner sign-in</h1>
<form method="post" action="/signin">
<input type="hidden" name="pending" value="{token}">
<input type="text" name="username"><input type="password" name="password">
<button type="submit">Sign in</button></form></body></html>""")

        def signin(self, q):
            found = pending.pop(q.get("pending", ""), None)
            if found is None:
                return self.reply(400, "<p>no sign-in in progress</p>")
            if (q.get("username"), q.get("password")) != (args.user, args.password):
                return self.reply(401, "<p>wrong user name or password</p>")
            token = secrets.token_urlsafe(16)
            sessions.add(token)
            self.answer(*found, cookie=f"{SESSION_COOKIE}={token}; Path=/; HttpOnly")

        def answer(self, authn_req, relay, cookie=None):
            acs = authn_req.assertion_consumer_service_url
            resp = idp.create_authn_response(
                identity={"IDPEmail": [args.email], EMAIL_CLAIM: [args.email]},
                in_response_to=authn_req.id,
                destination=acs,
                sp_entity_id=authn_req.issuer.text,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=args.immutable_id),
                authn={"class_ref": PASSWORDPROTECTEDTRANSPORT},
                sign_assertion=True,
                sign_response=False,
                # pysaml2 signs with RSA-SHA1 unless told otherwise, per call.
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
            http_args = idp.apply_binding(BINDING_HTTP_POST, str(resp), acs, relay, response=True)
            self.reply(200, http_args["data"], headers=[("Set-Cookie", cookie)] if cookie else ())

        def slo(self, q):
            if self.command != "GET" or "SAMLRequest" not in q:
                return self.reply(400, "<p>expected a LogoutRequest over HTTP-Redirect</p>")
            with signed_only:
                idp.config.setattr("idp", "want_authn_requests_signed", True)
                try:
                    req = idp.parse_logout_request(
                        q["SAMLRequest"], BINDING_HTTP_REDIRECT,
                        relay_state=q.get("RelayState"), sigalg=q.get("SigAlg"),
                        signature=q.get("Signature"))
                except Exception as e:
                    return self.reply(400, f"<p>LogoutRequest refused: {html.escape(repr(e))}</p>")
                finally:
                    idp.config.setattr("idp", "want_authn_requests_signed", False)
            message = req.message
            if message.name_id is None or message.name_id.text != args.immutable_id:
                return self.reply(400, "<p>LogoutRequest for a NameID this IdP did not issue</p>")
            # One user here: every session of hers ends.
            sessions.clear()
            sp = message.issuer.text.strip()
            _, destination = idp.pick_binding(
                "single_logout_service", [BINDING_HTTP_REDIRECT], "spsso", entity_id=sp)
            resp = idp.create_logout_response(
                message, [BINDING_HTTP_REDIRECT], sign=False,
                sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
            http_args = idp.apply_binding(
                BINDING_HTTP_REDIRECT, str(resp), destination, q.get("RelayState", ""),
                response=True, sign=True, sigalg=SIG_RSA_SHA256)
            location = dict(http_args["headers"])["Location"]
            self.reply(303, "", headers=[
                ("Location", location),
                ("Set-Cookie", f"{SESSION_COOKIE}=; Path=/; Max-Age=0")])

        def handle_any(self):
            path, q = self.params()
            if path == "/sso":
                return self.sso(q)
            if path == "/signin":
                return self.signin(q)
            if path == "/slo":
                return self.slo(q)
            self.reply(404, "<p>not found</p>")

        do_GET = handle_any
        do_POST = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

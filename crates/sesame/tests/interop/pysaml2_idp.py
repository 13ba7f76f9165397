#!/usr/bin/env python3
"""A pysaml2 identity provider on loopback, upstream of Sésame in the federation tests.

    pysaml2_idp.py metadata --dir DIR --port PORT
        creates DIR/idp-key.pem and DIR/idp-cert.pem if missing and prints the IdP's metadata
        (SSO HTTP-POST and Redirect, SLO Redirect, the signing certificate).
    pysaml2_idp.py serve --dir DIR --port PORT --sp-metadata FILE
                         --user LOGIN:PASSWORD:NAMEID:ATTRIBUTE=VALUE ...
        serves, on 127.0.0.1:PORT:
          /sso   AuthnRequests (HTTP-POST or Redirect): a sign-in form (username, password and a
                 CSRF token); on good credentials a Response with the user's persistent NameID and
                 attributes, the Assertion signed with RSA-SHA256, auto-posted to the ACS the
                 request names (checked against the SP's metadata by pysaml2)
          /slo   accepts LogoutRequests (answers a plain page)
        and prints `ready` on stdout when it listens. Logs go to stderr.
"""

import argparse
import html
import logging
import os
import secrets
import subprocess
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

XMLSEC1 = "/usr/bin/xmlsec1"
AUTHN = {"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
         "authn_auth": "pysaml2-interop"}


def ensure_keys(d):
    os.makedirs(d, exist_ok=True)
    key, cert = os.path.join(d, "idp-key.pem"), os.path.join(d, "idp-cert.pem")
    if not os.path.exists(key):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-sha256", "-subj", "/CN=127.0.0.1/O=sesame-interop-pysaml2-idp",
             "-keyout", key, "-out", cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def make_config(args, sp_metadata=None):
    key, cert = ensure_keys(args.dir)
    base = f"http://127.0.0.1:{args.port}"
    conf = {
        "entityid": f"{base}/idp",
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_POST),
                                               (f"{base}/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{base}/slo", BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
                "sign_assertion": True,
                "sign_response": False,
                "want_authn_requests_signed": False,
            }
        },
        "key_file": key,
        "cert_file": cert,
        "xmlsec_binary": XMLSEC1,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "metadata": {"local": [sp_metadata]} if sp_metadata else {},
    }
    c = IdPConfig()
    c.load(conf)
    return c


def parse_users(specs):
    users = {}
    for spec in specs:
        login, password, name_id, attr = spec.split(":", 3)
        name, value = attr.split("=", 1)
        users[login] = {"password": password, "name_id": name_id, "attrs": {name: [value]}}
    return users


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["metadata", "serve"])
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sp-metadata")
    p.add_argument("--user", action="append", default=[])
    args = p.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)

    if args.command == "metadata":
        print(create_metadata_string(None, make_config(args), 4, None, None, None, None, None)
              .decode())
        return

    server = Server(config=make_config(args, args.sp_metadata))
    users = parse_users(args.user)
    pending = {}  # csrf token -> (SAMLRequest, binding, RelayState)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            logging.info("%s " + fmt, self.address_string(), *a)

        def send(self, status, body, ctype="text/html; charset=utf-8"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def form(self):
            n = int(self.headers.get("Content-Length") or 0)
            return {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(n).decode()).items()}

        def login_page(self, saml_request, binding, relay, error=""):
            token = secrets.token_urlsafe(16)
            pending[token] = (saml_request, binding, relay)
            alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
            self.send(200, f"""<!doctype html><title>Partner IdP</title>{alert}
<form method="post" action="/login"><input type="hidden" name="csrf" value="{token}">
<input name="username"><input type="password" name="password">
<button type="submit">Sign in</button></form>""")

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
            if u.path == "/sso" and "SAMLRequest" in q:
                return self.login_page(q["SAMLRequest"], BINDING_HTTP_REDIRECT, q.get("RelayState"))
            if u.path == "/slo":
                return self.send(200, "<p>signed out</p>")
            self.send(404, "not found", "text/plain")

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            f = self.form()
            if u.path == "/sso" and "SAMLRequest" in f:
                return self.login_page(f["SAMLRequest"], BINDING_HTTP_POST, f.get("RelayState"))
            if u.path == "/login":
                req = pending.pop(f.get("csrf", ""), None)
                if req is None:
                    return self.send(400, "unknown or used form", "text/plain")
                saml_request, binding, relay = req
                user = users.get(f.get("username", ""))
                if user is None or user["password"] != f.get("password"):
                    return self.login_page(saml_request, binding, relay, "wrong credentials")
                try:
                    parsed = server.parse_authn_request(saml_request, binding)
                    resp_args = server.response_args(parsed.message, [BINDING_HTTP_POST])
                    resp_args.pop("binding", None)
                    response = server.create_authn_response(
                        user["attrs"],
                        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user["name_id"]),
                        authn=AUTHN, sign_assertion=True, sign_response=False,
                        sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256, **resp_args)
                    http = server.apply_binding(BINDING_HTTP_POST, str(response),
                                                resp_args["destination"], relay, response=True)
                except Exception as e:  # a refusal page, as a real IdP shows
                    logging.exception("cannot answer the AuthnRequest")
                    return self.send(400, f"<p>cannot answer: {html.escape(str(e))}</p>")
                body = http["data"]
                if not body.lstrip().startswith("<"):
                    body = "".join(body)
                return self.send(200, body)
            self.send(404, "not found", "text/plain")

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()

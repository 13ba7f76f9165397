#!/usr/bin/env python3
"""A browser-like client for Sésame's SAML interoperability tests (requests + a cookie jar).

    browser.py walk --jar JAR --start URL [--user UPN --password PW] [--out-dir DIR]
                    [--idp-user NAME --idp-password PW] [--label NAME] [--max-steps N]

Starts at URL and behaves like a browser without JavaScript that clicks the obvious button:
  * follows redirects one by one (every hop is recorded);
  * on Sésame's sign-in form (a form with `csrf`, `username` and `password` inputs) submits the
    credentials, with the CSRF token from the page and every other input as given;
  * on an upstream identity provider's login form (`username` and `password` inputs, no `csrf`,
    e.g. SimpleSAMLphp's) submits --idp-user / --idp-password with the form's hidden inputs;
  * on an auto-posting form (`<form method="post">` whose inputs are all hidden, such as
    SAMLRequest / SAMLResponse / RelayState) posts the inputs to the form's action; each
    SAMLResponse and SAMLRequest met this way is decoded and saved as DIR/LABEL-N-KIND.xml;
  * stops on any other page.
Cookies persist in JAR across invocations (Sésame's SSO session, the SPs' sessions).

Prints one JSON object: {"status", "url", "body", "hops": [[method, url, status], ...],
"saml": [{"kind", "file", "action", "relay_state"}], "signed_in": bool, "error": str|null}.
"""

import argparse
import base64
import html
import html.parser
import http.cookiejar
import json
import os
import sys
import urllib.parse
import zlib

import requests


class Forms(html.parser.HTMLParser):
    """Collects forms: action, method and inputs (name, type, value)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.current = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = {"action": a.get("action"), "method": (a.get("method") or "get").lower(),
                            "inputs": []}
            self.forms.append(self.current)
        elif tag in ("input", "button") and self.current is not None:
            self.current["inputs"].append(
                (a.get("name"), (a.get("type") or ("submit" if tag == "button" else "text")).lower(),
                 a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def parse_forms(body):
    p = Forms()
    try:
        p.feed(body)
    except Exception:
        pass
    return p.forms


def decode_saml(value, binding):
    raw = base64.b64decode(value)
    if binding == "redirect":
        try:
            return zlib.decompress(raw, -15)
        except zlib.error:
            return raw
    return raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["walk"])
    ap.add_argument("--jar", required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--idp-user")
    ap.add_argument("--idp-password")
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--label", default="walk")
    ap.add_argument("--max-steps", type=int, default=30)
    args = ap.parse_args()

    s = requests.Session()
    jar = http.cookiejar.LWPCookieJar(args.jar)
    if os.path.exists(args.jar):
        jar.load(ignore_discard=True, ignore_expires=True)
    s.cookies = jar
    s.headers["User-Agent"] = "sesame-interop-browser/1"
    os.makedirs(args.out_dir, exist_ok=True)

    hops, saml = [], []
    signed_in = False
    logins = 0
    error = None
    method, url, data = "GET", args.start, None
    r = None
    counter = 0
    for _ in range(args.max_steps):
        try:
            r = s.request(method, url, data=data, allow_redirects=False, timeout=30)
        except requests.RequestException as e:
            error = f"{method} {url}: {type(e).__name__}: {e}"
            break
        hops.append([method, url, r.status_code])
        # Query-string SAML messages (Redirect binding) are saved too.
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        for kind in ("SAMLRequest", "SAMLResponse"):
            if method == "GET" and kind in q:
                counter += 1
                f = os.path.join(args.out_dir, f"{args.label}-{counter}-{kind}-redirect.xml")
                with open(f, "wb") as fh:
                    fh.write(decode_saml(q[kind][0], "redirect"))
                saml.append({"kind": kind, "binding": "redirect", "file": f,
                             "action": url.split("?")[0],
                             "relay_state": q.get("RelayState", [None])[0]})
        if r.status_code in (301, 302, 303, 307, 308) and "Location" in r.headers:
            nxt = urllib.parse.urljoin(url, r.headers["Location"])
            if r.status_code in (307, 308):
                url = nxt  # method and body kept
            else:
                method, url, data = "GET", nxt, None
            continue
        ctype = r.headers.get("Content-Type", "")
        if "html" not in ctype:
            break
        forms = parse_forms(r.text)
        login = next((f for f in forms if "csrf" in {n for n, _, _ in f["inputs"]} and (
            {"username", "password"} & {n for n, _, _ in f["inputs"]})), None)
        if login is not None:
            if args.user is None:
                error = "the sign-in form appeared and no credentials were given"
                break
            if 'role="alert"' in r.text:
                alert = r.text.split('role="alert">', 1)[1].split("<", 1)[0]
                error = f"the sign-in form shows an error: {html.unescape(alert)}"
                break
            logins += 1
            if logins > 3:
                error = "the sign-in form keeps coming back"
                break
            fields = {}
            for name, typ, value in login["inputs"]:
                if name and typ not in ("submit", "button", "checkbox", "radio"):
                    fields[name] = value
            # Both steps (name, then password) accept what the other step asks for.
            fields["username"] = args.user
            if "password" in fields:
                fields["password"] = args.password
            method, url, data = "POST", urllib.parse.urljoin(url, login["action"] or url), fields
            signed_in = True
            continue
        idp_login = next((f for f in forms if {"username", "password"} <= {n for n, _, _ in f["inputs"]}), None)
        if idp_login is not None and args.idp_user is not None:
            logins += 1
            if logins > 3:
                error = "the identity provider's sign-in form keeps coming back"
                break
            fields = {n: v for n, t, v in idp_login["inputs"] if n and t == "hidden"}
            fields["username"] = args.idp_user
            fields["password"] = args.idp_password
            method, url, data = "POST", urllib.parse.urljoin(url, idp_login["action"] or url), fields
            continue
        post = next((f for f in forms if f["method"] == "post" and f["inputs"] and all(
            t in ("hidden", "submit", "button") for _, t, _ in f["inputs"])), None)
        if post is None:
            break
        fields = {n: v for n, t, v in post["inputs"] if n and t == "hidden"}
        action = urllib.parse.urljoin(url, post["action"] or url)
        for kind in ("SAMLRequest", "SAMLResponse"):
            if kind in fields:
                counter += 1
                f = os.path.join(args.out_dir, f"{args.label}-{counter}-{kind}-post.xml")
                with open(f, "wb") as fh:
                    fh.write(decode_saml(fields[kind], "post"))
                saml.append({"kind": kind, "binding": "post", "file": f, "action": action,
                             "relay_state": fields.get("RelayState")})
        method, url, data = "POST", action, fields
    else:
        error = f"more than {args.max_steps} steps"

    jar.save(ignore_discard=True, ignore_expires=True)
    out = {
        "status": r.status_code if r is not None else 0,
        "url": url,
        "body": r.text if r is not None else "",
        "hops": hops,
        "saml": saml,
        "signed_in": signed_in,
        "idp_logins": logins,
        "error": error,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sésame's SAML pages in a real browser: Debian's headless Chromium, driven over WebDriver
(Debian's chromedriver, Selenium from PyPI), for Sésame's interoperability tests.

    chromium.py --sesame URL --tenant ID --sp URL --user UPN --password PW --app NAME
                [--binding redirect|post] [--no-javascript] [--work-dir DIR]

Runs the scenarios below one after the other in ONE browser (its cookies carry over), the
service provider being on another site than Sésame (another loopback address), and prints one
JSON object: {"steps": [{"name", "url", "text"}...], "error": null | "what failed, where",
"session_cookie": the value of Sésame's session cookie before the logout}.

With JavaScript (the default):
  sign-in      SP /login (an AuthnRequest over --binding: a redirect, or a form the SP's page
               posts to Sésame from its own site) → Sésame's sign-in (UPN, then password) →
               the auto-posting Response page → the SP's /protected page;
  sso-again    SP /login again: no sign-in form, straight back to /protected (over POST, only
               when Sésame's session cookie may go along with a cross-site POST);
  acs-redirect SP /login with Sésame's My Apps URL as RelayState: after the Response page's
               POST, the SP's ACS redirects the browser there, to another site than its own;
  my-apps      Sésame's /{tenant}/myapps lists the app; clicking it lands on /protected;
  slo-post     SP /logout?binding=post: the SP POSTs its LogoutRequest from its own site
               (over plain HTTP the browser leaves out Sésame's SameSite=Lax cookie), Sésame
               answers;
  after-slo    Sésame's /{tenant}/myapps: the session is over (the sign-in page) — in this
               browser; the test also replays the old session cookie, which must not work;
  sign-out-asks
               signed in again through the SP, a script on the SP's page sends the browser to
               Sésame's /{tenant}/logout (a cross-site navigation): Sésame asks first;
  sign-out-confirmed
               the confirmation's button (a POST with its CSRF token): signed out;
  after-sign-out
               Sésame's /{tenant}/myapps: the sign-in page.
Without JavaScript (--no-javascript): sign-in, where the buttons of the pages that post SAML
messages are clicked.

Each step's text is what the page shows (`document.body.innerText`). Self-signed certificates
of https URLs are accepted (loopback TLS terminators).
"""

import argparse
import json
import sys
import tempfile
import time
from urllib.parse import quote

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 20


class Run:
    def __init__(self, driver, args):
        self.d = driver
        self.args = args
        self.steps = []
        self.session_cookie = None

    def text(self):
        return self.d.execute_script("return document.body ? document.body.innerText : ''")

    def record(self, name):
        self.steps.append({"name": name, "url": self.d.current_url, "text": self.text()})

    def wait(self, what, cond):
        try:
            # A page navigating away mid-check raises; that is "not yet", not a failure.
            WebDriverWait(self.d, TIMEOUT, poll_frequency=0.05,
                          ignored_exceptions=(WebDriverException,)).until(lambda d: cond())
        except Exception:
            raise RuntimeError(
                f"waited {TIMEOUT}s for {what}; at {self.d.current_url}: {self.text()[:600]!r}")

    def at(self, prefix):
        return self.d.current_url.startswith(prefix)

    def element(self, css):
        found = self.d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def sign_in(self):
        """Sésame's two-step sign-in form, as a person fills it."""
        self.wait("Sésame's UPN field", lambda: self.element("input#username"))
        self.element("input#username").send_keys(self.args.user)
        self.element("button[type=submit]").click()
        self.wait("Sésame's password field", lambda: self.element("input#password"))
        self.element("input#password").send_keys(self.args.password)
        self.element("button[type=submit]").click()

    def press_continue(self, what):
        """A page that posts a SAML message, without script: the person clicks its button."""
        self.wait(what, lambda: self.element("form[method=post] [type=submit]"))
        self.element("form[method=post] [type=submit]").click()

    def reach_protected(self, what):
        if self.args.no_javascript:
            # Sésame's own forms have submit buttons too: wait for the Response page itself.
            self.wait("the Response page", lambda: self.element("input[name=SAMLResponse]"))
            self.press_continue("the Response page's button")
        self.wait(what, lambda: self.at(self.args.sp + "/protected") and "protected=yes" in self.text())

    def scenarios(self):
        a = self.args
        idp = f"{a.sesame}/{a.tenant}"
        self.d.get(a.sp + f"/login?binding={a.binding}&relay=chromium")
        if a.no_javascript and a.binding == "post":
            self.press_continue("the SP's AuthnRequest page's button")
        self.sign_in()
        self.reach_protected("the SP's protected page after signing in")
        self.record("sign-in")
        if a.no_javascript:
            return
        self.d.get(a.sp + f"/login?binding={a.binding}&relay=again")
        self.wait("the SP's protected page with the SSO session",
                  lambda: self.at(a.sp + "/protected") or self.element("input#username"))
        self.record("sso-again")
        # The SP's ACS sends the browser on to another site (Sésame's My Apps, named by the
        # RelayState) after the Response page's POST: that redirect must not be blocked.
        self.d.get(a.sp + f"/login?binding={a.binding}&relay={quote(idp + '/myapps', safe='')}")
        self.wait("My Apps, where the SP's ACS redirected",
                  lambda: self.at(idp + "/myapps") and self.element("ul#apps"))
        self.record("acs-redirect")
        self.d.get(idp + "/myapps")
        self.wait("the app on My Apps",
                  lambda: self.d.find_elements(By.LINK_TEXT, a.app))
        # The session cookie's value, for the test to check afterwards that the session ended
        # on Sésame's side, not only in this browser.
        tenant_cookie = "sesame_session_" + a.tenant.replace("-", "")
        cookie = self.d.get_cookie(tenant_cookie) or self.d.get_cookie("__Host-" + tenant_cookie)
        self.session_cookie = cookie["value"] if cookie else None
        self.d.find_elements(By.LINK_TEXT, a.app)[0].click()
        self.wait("the SP's protected page from My Apps",
                  lambda: self.at(a.sp + "/protected") and "protected=yes" in self.text())
        self.record("my-apps")
        self.d.get(a.sp + "/logout?binding=post")
        self.wait("the SP's answer to its logout",
                  lambda: self.at(a.sp + "/slo") and "logged_out=" in self.text())
        self.record("slo-post")
        self.d.get(idp + "/myapps")
        self.wait("Sésame's page after the logout",
                  lambda: self.element("input#username") or self.element("ul#apps"))
        self.record("after-slo")
        # Another site sends the browser to Sésame's sign-out: it asks before signing out.
        self.d.get(a.sp + f"/login?binding={a.binding}&relay=again")
        self.sign_in()
        self.reach_protected("the SP's protected page after signing in again")
        self.d.execute_script("window.location.href = arguments[0]", idp + "/logout")
        self.wait("Sésame's sign-out confirmation",
                  lambda: self.at(idp + "/logout") and "Sign out?" in self.text())
        self.record("sign-out-asks")
        self.element("form[method=post] [type=submit]").click()
        self.wait("Sésame's signed-out page", lambda: "Signed out" in self.text())
        self.record("sign-out-confirmed")
        self.d.get(idp + "/myapps")
        self.wait("Sésame's page after signing out",
                  lambda: self.element("input#username") or self.element("ul#apps"))
        self.record("after-sign-out")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sesame", required=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--sp", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--app", required=True)
    p.add_argument("--binding", choices=["redirect", "post"], default="redirect")
    p.add_argument("--no-javascript", action="store_true")
    p.add_argument("--work-dir", default=None)
    args = p.parse_args()

    profile = tempfile.mkdtemp(prefix="chromium-", dir=args.work_dir)
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--ignore-certificate-errors",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    if args.no_javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    service = Service("/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(TIMEOUT)
    run = Run(driver, args)
    error = None
    started = time.monotonic()
    try:
        run.scenarios()
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
    finally:
        driver.quit()
    json.dump({"steps": run.steps, "error": error, "session_cookie": run.session_cookie,
               "seconds": round(time.monotonic() - started, 2)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

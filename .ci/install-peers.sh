#!/usr/bin/env bash
# Installs the third-party peers of the SAML interoperability tests (tests/saml_interop.rs,
# tests/federation_interop.rs) on a Debian 12 machine, idempotently: Apache + Shibboleth SP 3
# (mod_shib, shibd), SimpleSAMLphp (mod_php, php-xml), xmlsec1, Chromium and its WebDriver
# (chromium, chromium-driver), and a Python virtualenv at target/interop-venv with pysaml2,
# requests and selenium. Package scripts are kept from starting system
# services (the tests run their own instances on loopback); services the packages started anyway
# are stopped. Run as root (or with passwordless sudo) from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

pkgs=()
for p in apache2 libapache2-mod-shib shibboleth-sp-utils xmlsec1 python3-venv openssl \
    simplesamlphp libapache2-mod-php php-xml php-mbstring chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pkgs+=("$p")
done

if [ "${#pkgs[@]}" -gt 0 ]; then
    echo "install-peers: installing ${pkgs[*]}"
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    trap '[ "$created_policy" = 1 ] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
    # Should a package have started the system services anyway, stop them: the tests run their own.
    for svc in apache2 shibd; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
            $sudo systemctl stop "$svc" || true
        fi
    done
    [ -f /run/apache2/apache2.pid ] && $sudo kill "$(cat /run/apache2/apache2.pid)" 2>/dev/null || true
    [ -f /run/shibboleth/shibd.pid ] && $sudo kill "$(cat /run/shibboleth/shibd.pid)" 2>/dev/null || true
fi

venv=target/interop-venv
# Debian's own Python: its venv module is what python3-venv provides.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if ! "$venv/bin/python" -c 'import saml2, requests, selenium' >/dev/null 2>&1; then
    echo "install-peers: creating $venv with pysaml2, requests and selenium"
    [ -x "$venv/bin/pip" ] || "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check pysaml2 requests 'selenium>=4.20,<5'
fi
echo "install-peers: ok ($("$venv/bin/python" -c 'import importlib.metadata as m; print("pysaml2", m.version("pysaml2"))'), $(xmlsec1 --version | head -1), $(dpkg-query -W -f='shibboleth ${Version}' libapache2-mod-shib))"

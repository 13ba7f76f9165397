"""Runs scim2-tester (python-scim project, PyPI `scim2-tester`) as a library against a Sésame
SCIM endpoint and prints one line per check. Exit status: 0 when no check failed.

Usage: run_scim2_tester.py BASE_URL TOKEN DOMAIN

Sésame's userName is a user principal name whose domain must be the tenant's initial domain or
a verified one (a directory rule no schema can express). scim2-tester fills userName with a
random UUID; this script makes the random userName a UUID *at DOMAIN* and changes nothing else.
"""

import sys
import uuid

import httpx2 as httpx
import scim2_tester.filling as filling
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

base_url, token, domain = sys.argv[1], sys.argv[2], sys.argv[3]

_random_value = filling.generate_random_value


def _with_upn_domain(context, path, *args, **kwargs):
    value = _random_value(context, path, *args, **kwargs)
    if str(path).lower().endswith("username") and isinstance(value, str):
        return f"{uuid.uuid4()}@{domain}"
    return value


filling.generate_random_value = _with_upn_domain
for module in list(sys.modules.values()):
    if getattr(module, "generate_random_value", None) is _random_value:
        module.generate_random_value = _with_upn_domain

http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
client = SyncSCIMClient(http)
client.discover()
results = check_server(client)

failed = 0
counts = {}
for r in results:
    name = r.status.name
    counts[name] = counts.get(name, 0) + 1
    bad = r.status in (Status.ERROR, Status.CRITICAL)
    failed += bad
    rt = f"[{r.resource_type}] " if getattr(r, "resource_type", None) else ""
    print(f"{'FAIL' if bad else 'ok  '} {name:<10} {rt}{r.title}: {r.reason or ''}".rstrip())
print("summary: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + f", failed={failed}")
sys.exit(1 if failed else 0)

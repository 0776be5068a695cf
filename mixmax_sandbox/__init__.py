"""A Mixmax v1 API sandbox: a real HTTP server serving seeded, realistic data.

    from mixmax_sandbox import Sandbox
    with Sandbox(seed=42, scale="small") as sb:
        requests.get(f"{sb.url}/messages", headers={"X-API-Token": sb.token})

It imports nothing from `tap_mixmax`: the API contract is all they share.
"""

from .faults import FAULT_KINDS, Fault
from .sandbox import Sandbox
from .server import RequestRecord

__all__ = ["FAULT_KINDS", "Fault", "RequestRecord", "Sandbox"]

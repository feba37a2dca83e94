"""A faithful stand-in for STP (SPEI) on loopback, for `dispersa sandbox`, the demo and the tests; on the
same port, a GSMA mobile-money provider and a Mojaloop SDK scheme adapter (`sandbox.mobile_money`).

It reuses the protocol rules (domain.stp, adapters.bank.signer); nothing in the main code imports it.
"""
from .books import BookedOrder, Books, Delivery
from .config import SandboxConfig
from .scenarios import SCENARIOS, Scenario
from .server import SandboxServer, run_sandbox

__all__ = ["BookedOrder", "Books", "Delivery", "SCENARIOS", "SandboxConfig", "SandboxServer", "Scenario",
           "run_sandbox"]

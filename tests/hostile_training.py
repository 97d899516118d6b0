"""Self-reported training facts: forged history, steps and epochs."""

from __future__ import annotations

from hostile_kit import HostileCase

CASES: list[HostileCase] = []

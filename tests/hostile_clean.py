"""Attacks on the clean process: oversized or hostile saved models and manifests."""

from __future__ import annotations

from hostile_kit import HostileCase

CASES: list[HostileCase] = []

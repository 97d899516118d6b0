"""Attacks that forge test-cell outputs or nbgrader metadata from the student's kernel."""

from __future__ import annotations

from hostile_kit import HostileCase

CASES: list[HostileCase] = []

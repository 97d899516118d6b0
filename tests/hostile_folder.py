"""Attacks through the submission folder: links, special files, stray notebooks, odd ids."""

from __future__ import annotations

from hostile_kit import HostileCase

CASES: list[HostileCase] = []

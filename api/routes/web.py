"""The web app: the built pages and assets, served at ``/`` by the same service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

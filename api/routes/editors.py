"""For editors and communities: related wisdom entries and what other communities learned."""

from __future__ import annotations

from fastapi import APIRouter

from api.schemas import PROBLEMS

router = APIRouter(prefix="/v1", tags=["wisdom"], responses=PROBLEMS)

"""For councils: sector overlap, synergies, sub-sector groups, gaps and the council assistant."""

from __future__ import annotations

from fastapi import APIRouter

from api.schemas import PROBLEMS

router = APIRouter(prefix="/v1", tags=["councils"], responses=PROBLEMS)

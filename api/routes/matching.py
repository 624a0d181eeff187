"""Recommendations: collaborators for a person, initiatives to join, people to help; explained."""

from __future__ import annotations

from fastapi import APIRouter

from api.schemas import PROBLEMS

router = APIRouter(prefix="/v1", tags=["matching"], responses=PROBLEMS)

"""Tag suggestions through the app, with the real model and the tagger fitted on DPG data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from embeddings.encoder import load_encoder
from embeddings.tagging import Tagger

Headers = dict[str, dict[str, str]]


def test_a_draft_gets_sdgs_with_targets_and_sectors(client: TestClient) -> None:
    draft = ("After-school tutoring and reading circles help primary school children "
             "learn to read and stay in school.")  # fmt: skip
    response = client.post("/v1/tags/suggest", json={"text": draft})
    assert response.status_code == 200, response.text
    body = response.json()
    top = body["sdgs"][0]
    assert top["id"] == "sdg:4"
    assert top["suggested"] is True
    assert top["targets"][0]["id"].startswith("sdg_target:4.")
    assert top["evidence"]
    confidences = [s["confidence"] for s in body["sdgs"]]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences)
    assert body["sectors"][0]["id"] == "sector:education"
    assert "held-out" in body["confidence"]


def test_a_node_is_tagged_from_its_stored_text(client: TestClient, keys: Headers) -> None:
    response = client.post("/v1/tags/suggest", json={"id": "initiative:green-lots", "top": 3})
    assert response.status_code == 200, response.text
    assert len(response.json()["sdgs"]) == 3
    hidden = client.post("/v1/tags/suggest", json={"id": "person:priv"})
    assert hidden.status_code == 404
    mine = client.post("/v1/tags/suggest", json={"id": "person:priv"}, headers=keys["admin"])
    assert mine.status_code == 200


def test_text_or_id_but_not_both(client: TestClient) -> None:
    for body in ({}, {"text": "x", "id": "sdg:1"}, {"text": ""}, {"text": "x", "top": 18}):
        response = client.post("/v1/tags/suggest", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"], body


def test_a_node_s_own_tags_are_marked_existing_and_never_suggested(client: TestClient) -> None:
    # Safe Streets addresses SDG 16 and is in the peace sector.
    response = client.post("/v1/tags/suggest", json={"id": "initiative:safe-streets", "top": 17})
    assert response.status_code == 200, response.text
    body = response.json()
    sdgs = {s["id"]: s for s in body["sdgs"]}
    assert sdgs["sdg:16"]["existing"] is True and sdgs["sdg:16"]["suggested"] is False
    assert "already tagged" in sdgs["sdg:16"]["evidence"]
    assert [s["id"] for s in body["sdgs"] if s["existing"]] == ["sdg:16"]
    sectors = {s["id"]: s for s in body["sectors"]}
    peace = sectors["sector:peace"]
    assert peace["existing"] is True and peace["suggested"] is False
    for goal in body["sdgs"]:  # a target only under a goal suggested or already there
        assert not goal["targets"] or goal["suggested"] or goal["existing"]
    draft = client.post("/v1/tags/suggest", json={"text": "Mentoring.", "top": 17}).json()
    assert not any(s["existing"] for s in draft["sdgs"] + draft["sectors"])


def test_a_node_of_an_int8_index_is_tagged_from_its_text_in_fp32(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items in int8 (COCREATE_ENCODER_PRECISION): the node's vector is not one the tagger
    learnt on (fp32), so its text is encoded by the tagger's own encoder instead."""
    body = {"id": "initiative:green-lots", "top": 5}
    fp32 = client.post("/v1/tags/suggest", json=body).json()
    monkeypatch.setattr(services.search.index, "encoder", load_encoder(precision="int8"))
    given: list[object] = []
    suggest_vector = Tagger.suggest_vector

    def watched(self: Tagger, vector: object, *args: Any, **kwargs: Any) -> Any:
        given.append(vector)
        return suggest_vector(self, vector, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Tagger, "suggest_vector", watched)
    again = client.post("/v1/tags/suggest", json=body)
    assert again.status_code == 200, again.text
    assert [s["id"] for s in again.json()["sdgs"]] == [s["id"] for s in fp32["sdgs"]]
    assert given == []  # the stored int8 vector was never handed to the tagger

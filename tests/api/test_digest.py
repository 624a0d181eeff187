"""The weekly digest against a real SMTP server: one mail per opted-in person and week,
however often the job runs; what it shows respects visibility; one-click unsubscribe."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.accounts import Account, hash_password
from api.cli import cli
from api.digest import digests_sent, last_week, parse_week, this_week, token_account, week_bounds
from api.digest_job import added_in, content, iter_added, run
from api.matching import MatchingService
from api.services import Services
from api.settings import Settings
from graph.edges import Edge
from graph.model import Initiative, Person, Place
from graph.store import Deletion
from tests.api.conftest import PUBLIC, served
from tests.mailbox import Mailbox

DAVIS = Place(name="Davis", country="US", lat=38.5449, lon=-121.7405)
NEARBY = Place(name="Woodland", country="US", lat=38.6785, lon=-121.7733)
FAR = Place(name="Lyon", country="FR", lat=45.764, lon=4.8357)


def network() -> list[Any]:
    def person(slug: str, name: str, place: Place = NEARBY, **more: Any) -> Person:
        return Person(id=f"person:{slug}", name=name, place=place, bio="Tutoring for kids.",
                      interests=["reading circles"], **more)  # fmt: skip

    return [
        person("rosa", "Rosa Reader", DAVIS),
        person("sam", "Sam Second", DAVIS),
        person("olga", "Olga Optout", DAVIS),
        person("pia", "Pia Nearby"),
        person("mia", "Mia Membersonly", visibility="members"),
        person("pri", "Pri Private", visibility="private"),
        person("shy", "Shy Undiscoverable", discoverable=False),
        person("far", "Faro Faraway", FAR),
        Initiative(id="initiative:reading", name="Reading Rooms", description="Books.", place=FAR),
        Edge(kind="addresses", source="initiative:reading", target="sdg:4"),
        Edge(kind="interested_in", source="person:rosa", target="sdg:4"),
    ]


def account(services: Services, email: str, person: str | None, digest: bool) -> Account:
    with services.store.engine.begin() as conn:
        made = services.accounts.create(conn, email, email.split("@")[0].title(),
                                        hash_password("a long passphrase"), "member")  # fmt: skip
    services.accounts.update(made.id, person_id=person, digest=digest)
    found = services.accounts.get(made.id)
    assert found is not None
    return found


@pytest.fixture
def town(web: TestClient) -> dict[str, Account]:
    services = served(web)
    services.store.write(network())
    services.catch_up()
    return {
        "rosa": account(services, "rosa@example.org", "person:rosa", True),
        "sam": account(services, "sam@example.org", "person:sam", True),
        "olga": account(services, "olga@example.org", "person:olga", False),
        "nobody": account(services, "nobody@example.org", None, True),
    }


def test_the_job_run_twice_for_a_week_sends_one_mail_per_person(
    web: TestClient,
    mailbox: Mailbox,
    town: dict[str, Account],
) -> None:
    services = served(web)
    matching = MatchingService(services)
    week = this_week()
    assert run(services, matching, week, dry_run=True).sent == 2
    first = run(services, matching, week)
    assert (first.sent, first.skipped) == (2, 1)  # nobody has no profile
    services.mailer.flush()
    second = run(services, matching, week)
    assert (second.sent, second.skipped) == (0, 3)
    services.mailer.flush()
    assert len(mailbox.wait("rosa@example.org")) == 1
    assert len(mailbox.wait("sam@example.org")) == 1
    assert mailbox.to("olga@example.org") == [] and mailbox.to("nobody@example.org") == []
    assert len(mailbox.received) == 2
    mail = mailbox.to("rosa@example.org")[0]
    # What a member may find, near or in what Rosa follows; never a private or
    # undiscoverable person, nor someone far who shares nothing with her.
    for shown in ("Pia Nearby", "Mia Membersonly", "Reading Rooms", f"{PUBLIC}/digest"):
        assert shown in mail.text, shown
    for hidden in ("Pri Private", "Shy Undiscoverable", "Faro Faraway", "Rosa Reader"):
        assert hidden not in mail.text, hidden
    assert "- Reading Rooms: Also cares about Quality education" in mail.text
    unsubscribe = mail.message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{PUBLIC}/v1/account/unsubscribe?token=")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_digest_page_shows_the_same_as_the_mail(
    web: TestClient,
    town: dict[str, Account],
) -> None:
    services = served(web)
    _, secret = services.keys.issue(town["rosa"].id, "token", label="test", lifetime=None)
    headers = {"Authorization": f"Bearer {secret}"}
    body = web.get("/v1/me/digest", headers=headers).json()
    assert body["week"] == this_week() and body["digest"] is True
    people = {item["node"]["id"] for item in body["people"]}
    assert people == {"person:sam", "person:olga", "person:pia", "person:mia"}
    assert all("contact" not in item["node"] for item in body["people"])
    assert [item["node"]["id"] for item in body["initiatives"]] == ["initiative:reading"]
    assert body["initiatives"][0]["why"].startswith("Also cares about")
    assert 0 < len(body["matches"]) <= 3 and all(m["reasons"] for m in body["matches"])
    bad = web.get("/v1/me/digest?week=2026-W54", headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.week"
    earlier = web.get("/v1/me/digest?week=2020-W01", headers=headers).json()
    assert earlier["people"] == [] and earlier["initiatives"] == []


def test_new_nodes_read_lazily_in_batches_are_the_whole_list_newest_first(
    web: TestClient,
    town: dict[str, Account],
) -> None:
    services = served(web)
    later = [Person(id=f"person:new-{i}", name=f"New {i}", place=NEARBY) for i in range(12)]
    for person in later:  # one write each: each its own moment in the change log
        services.store.write([person, Edge(kind="interested_in", source=person.id,
                                           target="sdg:4")])  # fmt: skip
    services.catch_up()
    whole = added_in(services, this_week())
    assert [n.node.id for n in whole[:12]] == [p.id for p in reversed(later)]
    assert [n.at for n in whole] == sorted((n.at for n in whole), reverse=True)
    assert whole[0].topics == frozenset({"sdg:4"}) and whole[0].place is not None
    assert list(iter_added(services, this_week(), batch=5)) == whole
    # The page keeps the newest five people it may show, as before.
    found = content(services, MatchingService(services), town["rosa"], this_week())
    assert [p["node"]["id"] for p in found["people"]] == [p.id for p in reversed(later)][:5]


def test_one_click_unsubscribe(
    web: TestClient,
    mailbox: Mailbox,
    town: dict[str, Account],
) -> None:
    services = served(web)
    run(services, MatchingService(services), this_week())
    mail = mailbox.wait("rosa@example.org")[0]
    link = mail.message["List-Unsubscribe"].strip("<>")
    assert link in mail.text
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert token_account(services.store.engine, token) == town["rosa"].id
    page = web.get(link)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert services.accounts.get(town["rosa"].id).digest is True  # type: ignore[union-attr]
    done = web.post(link)
    assert done.status_code == 200 and done.json() == {"digest": False}
    assert services.accounts.get(town["rosa"].id).digest is False  # type: ignore[union-attr]
    forged = web.post(f"/v1/account/unsubscribe?token={town['sam'].id}.{'0' * 40}")
    assert forged.status_code == 422
    assert forged.json()["errors"][0]["field"] == "query.token"
    assert services.accounts.get(town["sam"].id).digest is True  # type: ignore[union-attr]
    next_week = run(services, MatchingService(services), "2099-W01")
    assert next_week.sent <= 1  # only Sam may still get one
    services.mailer.flush()
    assert len(mailbox.to("rosa@example.org")) == 1


def test_weeks() -> None:
    assert parse_week("2026-W49") == "2026-W49"
    for bad in ("2026-49", "2026-W54", "2021-W53", "next week"):
        with pytest.raises(ValueError, match=r"ISO week|has no week"):
            parse_week(bad)
    start, end = week_bounds("2026-W01")
    assert end - start == 7 * 86_400
    assert last_week(end + 3600) == "2026-W01"


def test_the_command_refuses_a_bad_week(settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["digest", "--week", "2026-W99"],
                                env={"COCREATE_DATA_DIR": str(settings.data_dir)})  # fmt: skip
    assert result.exit_code == 2 and "--week" in result.output


def test_erasing_a_person_forgets_the_digests_sent_to_them(
    web: TestClient, mailbox: Mailbox, town: dict[str, Account]
) -> None:
    services = served(web)
    run(services, MatchingService(services), this_week())
    with services.store.engine.connect() as conn:
        before = set(conn.scalars(select(digests_sent.c.account_id)))
    assert before == {town["rosa"].id, town["sam"].id}
    services.store.write([Deletion("node", "person:rosa")])
    with services.store.engine.connect() as conn:
        assert set(conn.scalars(select(digests_sent.c.account_id))) == {town["sam"].id}
    assert services.accounts.get(town["rosa"].id) is None

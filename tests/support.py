"""Helpers shared by the tests."""

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest


def missing(what: str) -> NoReturn:
    """Skip because `what` is not here; in CI (DSAR_REQUIRE_SERVICES=1) fail instead."""
    if os.environ.get("DSAR_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required in CI (DSAR_REQUIRE_SERVICES=1) but missing")
    pytest.skip(f"{what} is not available here")


def need_command(name: str) -> str:
    """The path of a command-line tool the test needs."""
    path = shutil.which(name)
    if path is None:
        missing(f"the `{name}` command")
    return path


def libreoffice_csv(workbooks: list[Path], work: Path, as_shown: bool = False) -> Path:
    """Convert each workbook with headless LibreOffice to one CSV per sheet, `<file>-<sheet>.csv` in the returned
    directory: every cell's value, or (`as_shown`) its text as LibreOffice shows it on screen."""
    soffice = need_command("soffice")
    # Filter options: ',' '"' UTF-8 (76), from line 1, ..., the 9th token "save cell contents as shown",
    # and the last (-1) every sheet.
    options = f"44,34,76,1,,0,false,true,{str(as_shown).lower()},false,false,-1"
    result = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{work}/profile", "--convert-to",
         f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(work / "out"), *map(str, workbooks)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    return work / "out"


@dataclass(frozen=True)
class S3Bucket:
    """A bucket on the test's moto server, with the KMS key to encrypt with and a plain boto3 client to inspect it."""

    endpoint_url: str
    name: str
    kms_key_id: str
    client: Any


# A throwaway PostgreSQL server -------------------------------------------------

POSTGRES_USER = "dsar"


def postgres_bindir() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`: PATH first, then Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in versions), key=lambda p: _major(p.parent.name), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _major(version: str) -> int:
    return int(version) if version.isdigit() else -1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb + pg_ctl in a private temporary directory, listening on a Unix socket there only.

    PostgreSQL refuses to run as root; as root the server runs as the `postgres` user.
    """

    startup_seconds = 0.0  # initdb to a usable database, set by the fixture

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                missing("a `postgres` user to run PostgreSQL as (the tests run as root)")
        # Short path: a Unix socket path must fit in ~107 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="dsar-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        if self.as_root:
            os.chown(self.dir, self._owner.pw_uid, self._owner.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            if shutil.which("runuser"):
                command = ["runuser", "-u", "postgres", "--", *command]
            else:
                command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}")

    def start(self) -> None:
        self._check(self._run(
            "initdb", "-D", str(self.data), "-U", POSTGRES_USER, "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync", "--no-instructions",
        ), "initdb")
        # Durability is worthless for a throwaway server; fsync=off makes CREATE DATABASE fast.
        options = f"-k {self.dir} -c listen_addresses='' -p {self.port} -c fsync=off -c full_page_writes=off"
        self._check(self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"),
                    "pg_ctl start")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{POSTGRES_USER}@/{database}?host={self.dir}&port={self.port}"

    def admin(self, *statements: str) -> None:
        """Run statements (CREATE/DROP DATABASE cannot run in a transaction) on the `postgres` database."""
        import psycopg

        with psycopg.connect(host=str(self.dir), port=self.port, user=POSTGRES_USER, dbname="postgres",
                             autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


def on_postgres(measure: Callable[[str], dict[str, Any]], before_stop: Callable[[], None] = lambda: None
                ) -> dict[str, Any]:
    """For benches: `measure(url)` on the database `bench` of a throwaway PostgreSQL server, then
    `before_stop()` (close pools) and the server stopped; {"skipped": why} when no server can run here."""
    bindir = postgres_bindir()
    if bindir is None:
        return {"skipped": "no PostgreSQL server here (initdb/pg_ctl)"}
    try:
        server = PostgresServer(bindir)
    except pytest.skip.Exception as exc:  # as root without a `postgres` user
        return {"skipped": str(exc)}
    try:
        server.start()
        server.admin("CREATE DATABASE bench")
        return measure(server.url("bench"))
    finally:
        before_stop()
        server.stop()

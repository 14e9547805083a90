"""The `dsar` command line."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flows.errors import SAFE_ERRORS

if TYPE_CHECKING:
    from flows.runtime import Runtime

# Prefect's telemetry fails noisily offline; set before Prefect is imported.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

app = typer.Typer(help="Identity-verified subject-access requests (GDPR Art. 15 and 20).", no_args_is_help=True)
request_app = typer.Typer(help="Register, verify and inspect one request.", no_args_is_help=True)
requests_app = typer.Typer(help="All requests.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit ledger.", no_args_is_help=True)
package_app = typer.Typer(help="The key that signs every package.", no_args_is_help=True)
link_app = typer.Typer(help="The download links of a delivered request.", no_args_is_help=True)
packages_app = typer.Typer(help="Stored packages.", no_args_is_help=True)
app.add_typer(request_app, name="request")
app.add_typer(requests_app, name="requests")
app.add_typer(audit_app, name="audit")
app.add_typer(package_app, name="package")
app.add_typer(link_app, name="link")
app.add_typer(packages_app, name="packages")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", envvar="DSAR_CONFIG", help="The dsar.toml file.", show_default=True)
]


def _runtime(config: Path) -> Runtime:
    from flows.runtime import open_runtime

    rt = open_runtime(config)
    # The flow and its workers find the config by this variable.
    os.environ["DSAR_CONFIG"] = str(rt.config.path)
    return rt


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo company and its packages go.")] = Path("demo"),
    seed: Annotated[int, typer.Option(help="Seed of the generated company.")] = 2026,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Generate a demo company and fulfil one request end to end."""
    from flows.demo.run import as_dict, run_demo

    if not as_json:
        typer.echo(f"Generating the demo company in {workdir} and running a request (about 15 s)...", err=True)
    result = run_demo(workdir, seed)
    if as_json:
        typer.echo(json.dumps(as_dict(result), indent=2))
        return
    config = Path(result.workdir) / "dsar.toml"
    # `make demo` runs .venv/bin/dsar, which is usually not on PATH: show the path that works.
    dsar = sys.argv[0] if Path(sys.argv[0]).name == "dsar" else "dsar"
    typer.echo(f"""
Request     {result.request_id} (subject {result.subject_email})
Package     {result.package_path}
Link        {result.download_url}
              (serve it with: {dsar} serve --config {config})
Passphrase  {result.passphrase}

Open it:    age -d -o {result.request_id}.zip {result.package_path}
            (age asks for the passphrase above), then unzip {result.request_id}.zip
History:    {dsar} request show {result.request_id} --config {config}
            {dsar} audit replay {result.request_id} --config {config}""")


@request_app.command("new")
def request_new(
    email: Annotated[str, typer.Option(help="The requester's email address (where the code is sent).")],
    language: Annotated[str, typer.Option(help="fi or en: the language of messages and the package.")] = "fi",
    name: Annotated[str | None, typer.Option(help="The requester's name, if given.")] = None,
    phone: Annotated[str | None, typer.Option(help="The requester's phone number, if given.")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Register a request and send the requester a one-time code."""
    from flows import stages

    rt = _runtime(config)
    rt.sources()  # a broken source section fails now, not after the requester has proved who they are
    request = stages.register(rt, email, language, name=name, phone=phone)
    if request.duplicate_of:
        # Neutral: whoever typed the address has proved nothing yet, so the other request's id stays
        # with the privacy team (`dsar request show`).
        typer.echo(f"{request.id} recorded as a duplicate: this requester already has a verified request "
                   "in progress; no code was sent.")
        return
    stages.send_code(rt, request.id)
    typer.echo(f"{request.id} registered, due {request.due_at:%Y-%m-%d}; a one-time code was sent to the requester.")


@request_app.command("verify")
def request_verify(
    request_id: str,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Enter the one-time code the requester received."""
    from flows import stages

    rt = _runtime(config)
    code = typer.prompt("Code", hide_input=True)
    if stages.submit_code(rt, request_id, code).duplicate_of:
        typer.echo(f"{request_id}: identity verified; the requester's earlier verified request is already "
                   "in progress, so this one is closed as its duplicate.")
        return
    typer.echo(f"{request_id}: identity verified. Run it with: dsar run {request_id}")


@request_app.command("resend-code")
def request_resend_code(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Send a new one-time code (the old one stops working)."""
    from flows import stages

    stages.send_code(_runtime(config), request_id)
    typer.echo(f"{request_id}: a new one-time code was sent to the requester.")


class CloseReason(StrEnum):
    withdrawn = "withdrawn"
    identity_not_verified = "identity_not_verified"
    manifestly_unfounded = "manifestly_unfounded"
    fulfilled = "fulfilled"  # delivered and done with: its links die and the package is deleted now


@request_app.command("close")
def request_close(
    request_id: str,
    reason: Annotated[CloseReason, typer.Option(help="Why the request ends without a package.")],
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Close a request: an open one without delivering (the subject may then ask again), or a delivered one.

    Its links stop working and its stored package and staged data are deleted.
    """
    from flows import stages

    stages.close(_runtime(config), request_id, reason.value)
    typer.echo(f"{request_id}: closed ({reason.value}).")


@request_app.command("show")
def request_show(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Show one request: status, deadline, contact and completed stages."""
    rt = _runtime(config)
    r = rt.store.get(request_id)
    withheld = (rt.store.stage_done(request_id, "package") or {}).get("withheld", 0)
    typer.echo(f"""{r.id}
  status      {r.status}{f' ({r.reason})' if r.reason else ''}
  received    {r.received_at:%Y-%m-%d %H:%M} UTC
  due         {r.deadline:%Y-%m-%d}
  language    {r.language}
  requester   {r.name or '-'} <{r.email}>{f', {r.phone}' if r.phone else ''}
  identity    {r.evidence['method'] + ' (' + r.evidence['level'] + ')' if r.evidence else 'not verified'}
  duplicate   {r.duplicate_of or '-'}
  package     {r.package_ref or '-'}
  withheld    {f'{withheld} item(s) held for review, listed in index.json' if withheld else '-'}""")


@requests_app.command("list")
def requests_list(config: ConfigOption = Path("dsar.toml")) -> None:
    """List requests with status and due date, oldest first."""
    rt = _runtime(config)
    for r in rt.store.list():
        typer.echo(f"{r.id}  {r.status:<18} due {r.deadline:%Y-%m-%d}  {r.language}")


@app.command()
def run(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Run (or resume) the Prefect flow of one verified request."""
    from flows import stages
    from identity.errors import IdentityNotVerified

    rt = _runtime(config)
    # Clear errors before Prefect starts.
    if not stages.open_request(rt, request_id).evidence:
        raise IdentityNotVerified(request_id)
    rt.sources()
    from flows.fulfil import quiet_console_tracebacks, run_request

    quiet_console_tracebacks()
    run_request(request_id)
    typer.echo(f"{request_id}: {rt.store.get(request_id).status}")


@app.command()
def serve(
    config: ConfigOption = Path("dsar.toml"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Serve download links until interrupted."""
    import logging

    from exports.serve import make_server

    # An access log of method and status only: tokens and paths stay out of it.
    access = logging.StreamHandler()
    access.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logging.getLogger("dsar.exports.serve").addHandler(access)
    logging.getLogger("dsar.exports.serve").setLevel(logging.INFO)
    from functools import partial

    from flows.downloads import admit

    rt = _runtime(config)
    rt.store, rt.ledger  # noqa: B018 - opened once here, not by the first downloads at the same moment
    server = make_server(host, port, rt.storage, rt.link_secret, admit=partial(admit, rt))
    typer.echo(f"Serving downloads on http://{host}:{server.server_address[1]} (Ctrl-C stops)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@link_app.command("revoke")
def link_revoke(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Stop every download link of a request at once."""
    from flows.downloads import revoke

    count = revoke(_runtime(config), request_id)
    typer.echo(f"{request_id}: {count} link(s) revoked.")


@link_app.command("reissue")
def link_reissue(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Mail the requester a new link to their package; the old links stop working."""
    from flows.downloads import reissue

    link = reissue(_runtime(config), request_id)
    typer.echo(f"{request_id}: a new link was sent, good for {link.downloads_left} download(s) "
               f"until {link.expires_at:%Y-%m-%d %H:%M} UTC; earlier links are revoked.")


@packages_app.command("expire")
def packages_expire(config: ConfigOption = Path("dsar.toml")) -> None:
    """Delete stored packages no link can download any more, and staging no run will use; close unverified
    requests past `[identity] unverified_lapse_days`."""
    from flows.sweeper import expire_packages

    counts = expire_packages(_runtime(config))
    lapsed = f" {counts.requests_lapsed} unverified request(s) lapsed." if counts.requests_lapsed else ""
    typer.echo(f"{counts.packages_deleted} package(s) and {counts.staging_deleted} staging folder(s) deleted.{lapsed}")


@audit_app.command("verify")
def audit_verify(
    config: ConfigOption = Path("dsar.toml"),
    public_key: Annotated[str | None, typer.Option(
        help="The controller's published public key (base64); by default derived from DSAR_LEDGER_KEY.")] = None,
) -> None:
    """Recompute the ledger's hash chain and signatures; exit 2 naming the first altered event."""
    from audit.ledger import Ledger
    from audit.signing import load_public_key
    from audit.verify import verify_ledger

    rt = _runtime(config)
    try:
        key = load_public_key(public_key) if public_key else rt.ledger_public_key
    except ValueError:
        raise typer.BadParameter("not a base64 Ed25519 public key", param_hint="--public-key") from None
    count = verify_ledger(Ledger(rt.store.engine).events(), key)  # read-only: no signing key needed
    typer.echo(f"ledger intact: {count} events verified")


@audit_app.command("public-key")
def audit_public_key(config: ConfigOption = Path("dsar.toml")) -> None:
    """Print the ledger's public key (base64) for the controller to publish to auditors."""
    from audit.signing import encode_key

    typer.echo(encode_key(_runtime(config).ledger_public_key))


@audit_app.command("replay")
def audit_replay(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Print one request's timeline from the ledger."""
    rt = _runtime(config)
    rt.store.get(request_id)
    for e in rt.ledger.events(request_id):
        detail = json.dumps(e.detail, sort_keys=True, ensure_ascii=False)
        typer.echo(f"{e.seq:>6}  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<12} {e.action:<26} {detail}")


@app.command("verify")
def verify_package(
    package: Annotated[Path, typer.Argument(
        help="REQ-ID.zip, or REQ-ID.zip.age with --passphrase-file.", exists=True, dir_okay=False,
        metavar="PACKAGE", show_default=False)],
    public_key: Annotated[str | None, typer.Option(
        help="The controller's published package key (base64), or a file holding it; "
        "by default the key of the controller in --config. Never a key found in the package.")] = None,
    passphrase_file: Annotated[Path | None, typer.Option(
        help="A file holding the passphrase of a .age package.", exists=True, dir_okay=False)] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Check a package's signature and every file's hash; exit 1 naming the first bad file."""
    from exports.errors import DecryptionFailed, PackageInvalid
    from exports.verify import verify_package, verify_sealed_package

    key = _package_public_key(public_key) if public_key else _runtime(config).package_public_key
    try:
        if passphrase_file is None:
            if package.name.endswith(".age"):
                raise typer.BadParameter("a .age package needs it", param_hint="--passphrase-file")
            verified = verify_package(package, key)
        else:
            passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
            if not passphrase:
                raise typer.BadParameter(f"{passphrase_file} is empty", param_hint="--passphrase-file")
            verified = verify_sealed_package(package, key, passphrase)
    except (PackageInvalid, DecryptionFailed) as exc:
        typer.echo(f"FAILED {package.name}: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"OK {verified.request_id}: {len(verified.files)} files verified")


def _package_public_key(value: str) -> bytes:
    """A base64 key given on the command line, or the first line of the file it names."""
    from audit.signing import load_public_key

    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8").strip() if path.is_file() else value
        return load_public_key(text)
    except (OSError, UnicodeDecodeError, ValueError):
        # Never echo the value: a private key pasted by mistake must not reach a terminal log.
        raise typer.BadParameter("not a base64 Ed25519 public key, nor a file holding one",
                                 param_hint="--public-key") from None


@package_app.command("public-key")
def package_public_key(config: ConfigOption = Path("dsar.toml")) -> None:
    """Print the package signing key's public half (base64), for the controller to publish."""
    from audit.signing import encode_key

    typer.echo(encode_key(_runtime(config).package_public_key))


@app.command()
def redact(
    message: Annotated[Path, typer.Argument(help="An RFC 5322 message (.eml) to redact.", show_default=False)],
    subject_email: Annotated[str, typer.Option(help="The data subject's email address: kept.")],
    subject_name: Annotated[str | None, typer.Option(help="The data subject's name: kept in every form.")] = None,
    subject_phone: Annotated[list[str] | None, typer.Option(help="A phone number of the subject's: kept.")] = None,
    subject_record: Annotated[Path | None, typer.Option(
        help="The subject's own record (a JSON object or list, such as their customer row): its values are "
        "theirs and kept, as in the flow.")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", envvar="DSAR_CONFIG", help="A dsar.toml whose redaction policy applies; "
        "the built-in defaults without one.")] = None,
) -> None:
    """Print a message with other people replaced, as the flow would redact it (for review and evaluation)."""
    from extractors.records import Subject
    from redaction.message import redact_message
    from redaction.policy import Policy

    policy = Policy()
    if config is not None:
        from flows.config import load_config

        loaded = load_config(config)
        policy = loaded.redaction.policy(loaded.controller)
    try:
        raw = message.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"{message}: cannot be read ({exc.strerror})", param_hint="MESSAGE") from None
    own: list[dict[str, Any]] = []
    if subject_record is not None:
        try:
            loaded_record = json.loads(subject_record.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise typer.BadParameter(f"{subject_record}: not a readable JSON file ({type(exc).__name__})",
                                     param_hint="--subject-record") from None
        own = loaded_record if isinstance(loaded_record, list) else [loaded_record]
        if not all(isinstance(row, dict) for row in own):
            raise typer.BadParameter(f"{subject_record}: a JSON object or a list of objects",
                                     param_hint="--subject-record")
    subject = Subject(subject_email, name=subject_name, phones=tuple(subject_phone or ()))
    sys.stdout.buffer.write(redact_message(raw, subject, policy, own))
    sys.stdout.flush()


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    # Staged records, the request store and packages hold personal data: private to this account.
    os.umask(0o077)
    try:
        app()
    except SAFE_ERRORS as exc:
        typer.echo(f"dsar: error: {exc}", err=True)
        sys.exit(2)

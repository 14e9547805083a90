"""The `dsar` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flows.errors import SAFE_ERRORS

if TYPE_CHECKING:
    from datetime import datetime

    from flows.demo.run import DemoResult
    from flows.runtime import Runtime
    from flows.store import Request, RunClaim

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
review_app = typer.Typer(help="Approve or reject a package before it is built ([review] in the config).",
                         no_args_is_help=True)
app.add_typer(request_app, name="request")
app.add_typer(requests_app, name="requests")
app.add_typer(audit_app, name="audit")
app.add_typer(package_app, name="package")
app.add_typer(link_app, name="link")
app.add_typer(packages_app, name="packages")
app.add_typer(review_app, name="review")
sources_app = typer.Typer(help="The configured sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
index_app = typer.Typer(help="Indexes that make sources fast to search.", no_args_is_help=True)
app.add_typer(index_app, name="index")
config_app = typer.Typer(help="The dsar.toml file.", no_args_is_help=True)
app.add_typer(config_app, name="config")

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
    serve: Annotated[bool, typer.Option(
        "--serve", help="Then serve the portal on 127.0.0.1:8765 until Ctrl-C, with the demo's Mailchimp stand-in "
        "running, so a request asked there runs end to end.")] = False,
) -> None:
    """Generate a demo company and fulfil one request end to end."""
    from flows.demo.run import as_dict, run_demo

    if not as_json:
        typer.echo(f"Generating the demo company in {workdir} and running a request (about 15 s)...", err=True)

    def then(result: DemoResult, rt: Runtime) -> None:
        if as_json:
            typer.echo(json.dumps(as_dict(result), indent=2))
        else:
            _say_demo(result, serve)
        if serve:
            from urllib.parse import urlsplit

            public = urlsplit(rt.config.delivery.public_url)
            _serve_portal(rt, public.hostname or "127.0.0.1", public.port or 8765)

    run_demo(workdir, seed, then)


def _say_demo(result: DemoResult, serving: bool) -> None:
    config = Path(result.workdir) / "dsar.toml"
    # `make demo` runs .venv/bin/dsar, which is usually not on PATH: show the path that works.
    dsar = sys.argv[0] if Path(sys.argv[0]).name == "dsar" else "dsar"
    portal = "(serving now; Ctrl-C stops)" if serving else \
        f"(start it with: {dsar} demo --serve --workdir {result.workdir})"
    typer.echo(f"""
Request     {result.request_id} (subject {result.subject_email})
Package     {result.package_path}
Portal      {result.portal_url}
              {portal}
              ask for data there; the code mails land in {Path(result.workdir) / 'outbox'}
Link        {result.download_url}
              (the download page on the portal; the status page: {result.status_url})
Passphrase  {result.passphrase}

Open it:    age -d -o {result.request_id}.zip {result.package_path}
            (age asks for the passphrase above), then unzip {result.request_id}.zip
            and open {result.request_id}/README.html: what it holds and why, in Finnish
Check it:   {dsar} verify {result.request_id}.zip --config {config}
History:    {dsar} request show {result.request_id} --config {config}
            {dsar} audit replay {result.request_id} --config {config}
Ledger key: {result.ledger_key_file}
            (owner-only, outside {result.workdir}: whoever can rewrite the ledger there cannot re-sign it)""")


class CommentLanguage(StrEnum):
    fi = "fi"
    en = "en"


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where the files go (made if missing).")] = Path("."),
    language: Annotated[CommentLanguage, typer.Option(
        help="The language of the comments in dsar.toml and of README.md.")] = CommentLanguage.en,
    name: Annotated[str | None, typer.Option(help="The controller's legal name.")] = None,
    business_id: Annotated[str | None, typer.Option(help="The business id (Y-tunnus), e.g. 1234567-1.")] = None,
    contact_email: Annotated[str | None, typer.Option(help="The address for privacy matters.")] = None,
    phone: Annotated[str | None, typer.Option(help="The privacy contact's phone number.")] = None,
    postal_address: Annotated[str | None, typer.Option(help="The controller's postal address.")] = None,
    dpo_name: Annotated[str | None, typer.Option(help="The data protection officer's name.")] = None,
    dpo_email: Annotated[str | None, typer.Option(help="The data protection officer's address.")] = None,
    languages: Annotated[str | None, typer.Option(help="Languages of requests: fi, en or fi,en.")] = None,
    time_zone: Annotated[str | None, typer.Option(help="The time zone of deadlines.")] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Ask nothing: every answer from the options (so too when not in a terminal).")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace dsar.toml and README.md; the secrets in the env file are kept even so.")] = False,
) -> None:
    """Start a controller's configuration: a commented dsar.toml, owner-only secrets and a README.

    In a terminal it asks for the controller's details; otherwise (or with --yes) they come from the options.
    Re-running never replaces a secret.
    """
    from flows.init import CONFIG_NAME, ENV_NAME, README_NAME, answers_from_options, ask_answers, init_directory

    given = {"name": name, "business_id": business_id, "contact_email": contact_email, "phone": phone,
             "postal_address": postal_address, "dpo_name": dpo_name, "dpo_email": dpo_email,
             "languages": languages, "time_zone": time_zone}
    if yes or not sys.stdin.isatty():
        answers = answers_from_options(given)
    else:
        answers = ask_answers(given, lambda prompt, default: typer.prompt(prompt, default=default, show_default=True),
                              lambda problem: typer.echo(problem, err=True))
    result = init_directory(directory, answers, language.value, force)
    for file in result.written:
        typer.echo(f"wrote {directory / file}")
    for file in result.kept:
        typer.echo(f"kept  {directory / file} (as it was{'' if file == ENV_NAME else '; --force replaces it'})")
    if result.secrets_added:
        typer.echo(f"new secrets in {directory / ENV_NAME}: {', '.join(result.secrets_added)}")
    typer.echo(f"Next: read {directory / README_NAME}, add your sources to {directory / CONFIG_NAME}, "
               "then run dsar check.")


class Right(StrEnum):
    """The values of `flows.stages.RIGHTS`."""

    access = "access"
    portability = "portability"


@request_app.command("new")
def request_new(
    email: Annotated[str, typer.Option(help="The requester's email address (where the code is sent).")],
    language: Annotated[str, typer.Option(help="fi or en: the language of messages and the package.")] = "fi",
    name: Annotated[str | None, typer.Option(help="The requester's name, if given.")] = None,
    phone: Annotated[str | None, typer.Option(help="The requester's phone number, if given.")] = None,
    also_email: Annotated[list[str] | None, typer.Option(
        help="A further address of the requester's to search for; it gets its own code. Repeatable.")] = None,
    also_phone: Annotated[list[str] | None, typer.Option(
        help="A further phone number of the requester's to search for; it gets its own code by text message "
        "([sms]). Repeatable.")] = None,
    right: Annotated[Right, typer.Option(
        help="What the request asks for: a copy (access, Art. 15), or also the data to take elsewhere "
        "(portability, Art. 20).")] = Right.access,
    force: Annotated[bool, typer.Option(
        "--force", help="Register and send the code even though `dsar check` finds an error.")] = False,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Register a request and send the requester a one-time code (and one to each further identifier), once
    `dsar check` finds no error."""
    from flows import identifiers
    from flows.check import check_config, line
    from flows.lifecycle import new_request

    rt = _runtime(config)
    further = [(identifiers.EMAIL, raw) for raw in also_email or ()] + \
              [(identifiers.PHONE, raw) for raw in also_phone or ()]
    for kind, raw in further:  # every one checked before the sources are
        identifiers.normalised(rt, kind, raw)
    # A broken source or secret shows now, not after a customer received a code and proved who they are.
    errors = [f for f in check_config(rt.config) if f.status == "error"]
    for finding in errors:
        typer.echo(line(finding), err=True)
    if errors and not force:
        typer.echo("dsar: error: `dsar check` finds the errors above; no request was registered and no code "
                   "sent (fix them, or pass --force)", err=True)
        raise typer.Exit(1)
    if errors:
        typer.echo("dsar: warning: --force: registering despite the errors above", err=True)
    request = new_request(rt, email, language, name=name, phone=phone, right=right.value, further=further)
    if request.duplicate_of:
        # Neutral: whoever typed the address has proved nothing yet, so the other request's id stays
        # with the privacy team (`dsar request show`).
        typer.echo(f"{request.id} recorded as a duplicate: this requester already has a verified request "
                   "in progress; no code was sent.")
        return
    more = f" and one to each of {len(further)} further identifiers" if further else ""
    typer.echo(f"{request.id} registered, due {rt.store.calendar.local_date(request.due_at)}; a one-time code was "
               f"sent to the requester{more}.")


@request_app.command("add-identifier")
def request_add_identifier(
    request_id: str,
    email: Annotated[str | None, typer.Option(help="A further address of the requester's.")] = None,
    phone: Annotated[str | None, typer.Option(help="A further phone number of the requester's ([sms]).")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Name a further address or phone number to search for, and send it its own one-time code.

    It is searched for only once verified (`dsar request verify REQ --identifier ...`), and only before the
    request's sources are searched.
    """
    from flows import identifiers

    if (email is None) == (phone is None):
        raise typer.BadParameter("give one of --email and --phone", param_hint="--email")
    kind, raw = (identifiers.EMAIL, email) if email is not None else (identifiers.PHONE, phone)
    assert raw is not None
    identifiers.add_identifier(_runtime(config), request_id, kind, raw)
    typer.echo(f"{request_id}: a one-time code was sent to the further {kind}; verify it with "
               f"dsar request verify {request_id} --identifier ... (the code on stdin)")


class ManualCheck(StrEnum):
    id_document = "id-document"
    signed_letter = "signed-letter"
    in_person = "in-person"


@request_app.command("verify")
def request_verify(
    request_id: str,
    knowledge: Annotated[bool, typer.Option(
        "--knowledge", help="Match what the requester stated (--answers) against the customer record.")] = False,
    answers: Annotated[Path | None, typer.Option(
        help="With --knowledge: a JSON object of the requester's answers (name, postal_code, phone, "
        "order_number, birth_date). Never put answers on the command line.", dir_okay=False)] = None,
    manual: Annotated[bool, typer.Option("--manual", help="Record a check a member of staff made.")] = False,
    method: Annotated[ManualCheck | None, typer.Option(help="With --manual: what was checked.")] = None,
    by: Annotated[str | None, typer.Option(help="With --manual: your staff id ([identity] staff_ids).")] = None,
    note: Annotated[str | None, typer.Option(
        help="With --manual: what was checked, kept in the request store only; no document numbers.")] = None,
    id_token: Annotated[Path | None, typer.Option(
        "--id-token", help="A file holding the requester's OIDC ID token ('-' reads it from stdin), "
        "from the login `dsar request oidc-start` began. Never the token itself: arguments show in `ps`.",
        dir_okay=False, show_default=False)] = None,
    identifier: Annotated[str | None, typer.Option(
        help="Verify a further address or phone number the request names, by the code sent there.")] = None,
    code: Annotated[str | None, typer.Option(
        help="The one-time code. Prefer stdin (`echo CODE | dsar request verify ...`) or the prompt: "
        "arguments show in `ps`.")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Verify the requester: the one-time code they received (--code, stdin or asked for), --id-token, --knowledge
    or --manual; with --identifier, a further address or phone number by its own code."""
    from flows import stages

    if knowledge and manual:
        raise typer.BadParameter("use one of --knowledge and --manual", param_hint="--knowledge")
    if answers is not None and not knowledge:
        raise typer.BadParameter("goes with --knowledge", param_hint="--answers")
    if (method or by or note is not None) and not manual:
        raise typer.BadParameter("--method, --by and --note go with --manual", param_hint="--manual")
    if identifier is not None and (knowledge or manual or id_token is not None):
        raise typer.BadParameter("a further identifier is verified by its code only", param_hint="--identifier")
    if code is not None and (knowledge or manual or id_token is not None):
        raise typer.BadParameter("goes with the one-time code only", param_hint="--code")
    rt = _runtime(config)
    if identifier is not None:
        from flows.identifiers import submit_identifier_code

        named = submit_identifier_code(rt, request_id, identifier, _code(code))
        typer.echo(f"{request_id}: the further {named.kind} is verified; its sources will search for it.")
        return
    if id_token is not None:
        from flows.oidc import submit_id_token

        evidence = submit_id_token(rt, request_id, _read_token(id_token))
    elif knowledge:
        from flows.knowledge_check import submit_knowledge

        if answers is None:
            raise typer.BadParameter("--knowledge needs the requester's answers", param_hint="--answers")
        evidence = submit_knowledge(rt, request_id, _answers(answers))
    elif manual:
        from flows.manual_check import record_manual_check

        if method is None or by is None:
            raise typer.BadParameter("--manual needs --method and --by", param_hint="--method")
        evidence = record_manual_check(rt, request_id, method.value, by, note)
    else:
        stages.submit_code(rt, request_id, _code(code))
        evidence = None
    if rt.store.get(request_id).duplicate_of:
        # Neutral: the other request's id is for the privacy team (`dsar request show`), not the requester.
        typer.echo(f"{request_id}: identity verified; the requester's earlier verified request is already "
                   "in progress, so this one is closed as its duplicate.")
        return
    how = "" if evidence is None else f" ({evidence.method}, {evidence.level})"
    typer.echo(f"{request_id}: identity verified{how}. Run it with: dsar run {request_id}")


def _code(given: str | None) -> str:
    """The one-time code: --code, else the first line of stdin when it is no terminal (no getpass, which warns
    there), else asked for without echo."""
    if given is not None:
        return given
    if not sys.stdin.isatty():
        piped = sys.stdin.readline().strip()
        if not piped:  # refused before a try is spent
            raise typer.BadParameter("no code on stdin; pipe it in or give --code", param_hint="--code")
        return piped
    return str(typer.prompt("Code", hide_input=True))


def _answers(path: Path) -> dict[str, Any]:
    """The requester's answers: a JSON object of short texts or numbers (never echoed back)."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{path}: not a readable JSON file ({type(exc).__name__})",
                                 param_hint="--answers") from None
    if not isinstance(loaded, dict):
        raise typer.BadParameter(f"{path}: must hold a JSON object", param_hint="--answers")
    return loaded


class SealWith(StrEnum):
    """The values of `flows.store.SEALING_METHODS`."""

    # age, with a generated passphrase mailed apart from the link (the default)
    age_passphrase = "age-passphrase"  # noqa: S105 - names a method, holds no secret
    age_recipient = "age-recipient"  # age, to the requester's own age1... key: no passphrase is sent
    zip_aes = "zip-aes"  # a WinZip AES-256 zip with a generated passphrase, for requesters without age


@request_app.command("seal")
def request_seal(
    request_id: str,
    seal_with: Annotated[SealWith, typer.Option("--with", help="How the package is encrypted.")],
    age_recipient: Annotated[str | None, typer.Option(help="The requester's age public key (age1...).")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Choose how a request's package is encrypted, before it is stored."""
    from exports.encrypt import check_recipient
    from flows.errors import InvalidRequest
    from flows.stages import open_request
    from flows.store import Sealing

    if (seal_with is SealWith.age_recipient) != (age_recipient is not None):
        raise InvalidRequest("--age-recipient goes with --with age-recipient, and only with it")
    if age_recipient is not None:
        try:
            check_recipient(age_recipient)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
    rt = _runtime(config)
    open_request(rt, request_id)
    # Once sealed, the stored object (and a passphrase that may be on its way) belongs to that choice.
    if rt.store.stage_done(request_id, "store:sealed") is not None:
        raise InvalidRequest(f"{request_id}: the package is already sealed and stored")
    rt.store.set_sealing(request_id, Sealing(seal_with.value, age_recipient))
    rt.ledger.append_event(request_id, "privacy_team", "sealing_chosen", {"method": seal_with.value})
    typer.echo(f"{request_id}: the package will be sealed with {seal_with.value}.")


def _read_token(path: Path) -> str:
    """The one line of a token file or stdin; its text is never echoed."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not an ASCII token"
        raise typer.BadParameter(f"{path}: cannot be read ({why})", param_hint="--id-token") from None
    token = text.strip()
    if not token or len(token.split()) != 1:
        raise typer.BadParameter(f"{path}: holds no single token", param_hint="--id-token")
    return token


@request_app.command("oidc-start")
def request_oidc_start(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Begin an OIDC login for a request: print the nonce its ID token must carry (single use).

    An outstanding one-time email code stops working.
    """
    from flows.oidc import start_login

    rt = _runtime(config)
    nonce = start_login(rt, request_id)
    minutes = rt.config.oidc().nonce_ttl_minutes
    typer.echo(f"{request_id}: login started; the ID token must carry this nonce, within {minutes} minutes:", err=True)
    typer.echo(nonce)


@request_app.command("resend-code")
def request_resend_code(
    request_id: str,
    identifier: Annotated[str | None, typer.Option(
        help="A further address or phone number the request names: send its code instead.")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Send a new one-time code (the old one stops working)."""
    from flows import stages

    if identifier is not None:
        from flows.identifiers import resend_identifier_code

        resend_identifier_code(_runtime(config), request_id, identifier)
        typer.echo(f"{request_id}: a new one-time code was sent to the further identifier.")
        return
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
  received    {_received(rt, r)}
  due         {_due(rt, r)}{_extension(rt, r)}
  language    {r.language}
  requester   {r.name or '-'} <{r.email}>{f', {r.phone}' if r.phone else ''}
  identity    {r.evidence['method'] + ' (' + r.evidence['level'] + ')' if r.evidence else 'not verified'}
  duplicate   {r.duplicate_of or '-'}
  package     {r.package_ref or '-'}
  withheld    {f'{withheld} item(s) held for review, listed in index.json' if withheld else '-'}
  run         {_holder(rt.store.run_claim(request_id), rt.clock())}""")
    for named in rt.store.identifiers(request_id):  # the privacy team's view: values are shown, as the address is
        typer.echo(f"  also        {named.kind} {named.value} "
                   f"({'verified' if named.verified_at else 'not verified: not searched'})")


def _holder(claim: RunClaim | None, now: datetime) -> str:
    """Who holds a request's claim, where, and until when: what `dsar request unlock` needs to decide."""
    if claim is None:
        return "-"
    lapsed = "" if claim.is_live(now) else ", lapsed"
    return f"flow run {claim.run_id} on {claim.host}:{claim.pid}, until {claim.until:%Y-%m-%d %H:%M:%S} UTC{lapsed}"


@request_app.command("unlock")
def request_unlock(
    request_id: str,
    by: Annotated[str, typer.Option(help="Your staff id ([identity] staff_ids, when the config lists them).")],
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Release the claim of a flow run that is gone, so that `dsar run` can resume the request now.

    A run on this host that died, or whose Prefect run ended, is taken over by
    the next `dsar run` without this. Recorded in the ledger with your staff id.
    """
    from flows.claims import unlock

    rt = _runtime(config)
    held = unlock(rt, request_id, by)
    if held is None:
        typer.echo(f"{request_id}: no run holds it.")
    else:
        typer.echo(f"{request_id}: released the claim of flow run {held.run_id} ({held.host}:{held.pid}).")


@sources_app.command("check")
def sources_check(
    source: Annotated[str | None, typer.Option(help="Check this source only.")] = None,
    min_rows: Annotated[int, typer.Option(help="Warn about a full scan of a table with more rows.")] = 10_000,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """The sources part of `dsar check`: each source checks itself (sql: EXPLAIN names the index a large
    table lacks); exit 1 on a warning or an error."""
    from flows.check import check_sources, line

    rt = _runtime(config)
    if source is not None and source not in [s.name for s in rt.config.sources]:
        raise typer.BadParameter(f"no source named '{source}' in the config", param_hint="--source")
    findings = list(check_sources(rt.config, source, min_rows))
    for finding in findings:
        typer.echo(line(finding))
    if any(f.status != "ok" for f in findings):
        raise typer.Exit(1)


@app.command("check")
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array of findings.")] = False,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Check the config, every secret's format, every source (no subject), SMTP (no mail sent) and storage
    (a probe object written and deleted): one line each, ok, warning or error; exit 1 on an error."""
    from dataclasses import asdict

    from flows.check import check_file, failed, line

    findings = check_file(config)
    if as_json:
        typer.echo(json.dumps([asdict(f) for f in findings], indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            typer.echo(line(finding))
    if failed(findings):
        raise typer.Exit(1)


@config_app.command("reference")
def config_reference(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
) -> None:
    """Print the config reference (Markdown): every section and key, and the keys of every installed source kind."""
    from extractors.registry import load_source_kinds
    from flows.config_reference import render, write

    write(render(load_source_kinds()), output)


def _received(rt: Runtime, r: Request) -> str:
    """When the request arrived where the controller is (its deadline counts from that date), and in UTC."""
    local = r.received_at.astimezone(rt.store.calendar.zone)
    return f"{local:%Y-%m-%d %H:%M %Z} ({r.received_at:%Y-%m-%d %H:%M} UTC)"


def _extension(rt: Runtime, r: Request) -> str:
    """The Art. 12(3) extension as the requester was told it: months, when, the original due date and the reason."""
    done = rt.store.extension(r.id)
    if done is None:
        return ""
    calendar = rt.store.calendar
    return (f"\n  extended    by {done.months} month{'s' if done.months > 1 else ''} on "
            f"{calendar.local_date(done.extended_at)}, from {calendar.local_date(r.due_at)}: {done.reason}")


def _due(rt: Runtime, r: Request) -> str:
    """The due date where the controller is, and whether it was extended (Art. 12(3))."""
    due = rt.store.calendar.local_date(r.deadline)
    return f"{due} (extended)" if r.extended_to is not None else f"{due}"


_MAX_DAYS = 3660  # ten years: far past any deadline (at most three months), and within the calendar's reach


def _days(value: str) -> int:
    if not (value.endswith("d") and value[:-1].isdigit()):
        raise typer.BadParameter(f"give a number of days such as 7d, not {value!r}", param_hint="--due-within")
    if int(value[:-1]) > _MAX_DAYS:
        raise typer.BadParameter(f"at most {_MAX_DAYS}d, not {value!r}", param_hint="--due-within")
    return int(value[:-1])


@requests_app.command("list")
def requests_list(
    due_within: Annotated[str | None, typer.Option(
        "--due-within", help="Only open requests due within this many days (7d), overdue ones included.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their due date.")] = False,
    status: Annotated[str | None, typer.Option(help="Only requests in this status.")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """List requests with status and due date (the controller's calendar date), oldest first; the filters
    combine, and with --due-within or --overdue the earliest deadline comes first."""
    from datetime import timedelta

    from flows.store import STATUSES

    days = None if due_within is None else _days(due_within)
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}", param_hint="--status")
    rt = _runtime(config)
    claims, now, calendar = rt.store.run_claims(), rt.clock(), rt.store.calendar
    if overdue:
        chosen = rt.store.open_due_by(now)
    elif days is not None:
        chosen = rt.store.open_due_by(calendar.end_of(calendar.local_date(now) + timedelta(days=days)))
    else:
        chosen = rt.store.list()
    for r in chosen:
        if status is not None and r.status != status:
            continue
        claim = claims.get(r.id)
        run = "" if claim is None else f"  run {_holder(claim, now)}"
        late = "  OVERDUE" if r.is_open and r.deadline < now else ""
        typer.echo(f"{r.id}  {r.status:<18} due {_due(rt, r)}{late}  {r.language}{run}")


@requests_app.command("digest")
def requests_digest(config: ConfigOption = Path("dsar.toml")) -> None:
    """Mail the privacy team the deadline digest now (what the daily deadline_watch flow sends): open requests
    overdue or due within `[notify] deadline_warning_days`. At most one a day: today's, if sent, is not resent."""
    from flows.deadline_watch import watch_deadlines

    counts = watch_deadlines(_runtime(config))
    if counts.mailed:
        said = "mailed to the privacy team"
    elif counts.overdue or counts.due_soon:
        said = "today's digest went already; not mailed again"
    else:
        said = "nothing to mail"
    typer.echo(f"{counts.overdue} overdue, {counts.due_soon} due soon: {said}.")


ByOption = Annotated[str, typer.Option("--by", help="Your staff id ([identity] staff_ids); it goes to the ledger.")]


@request_app.command("extend")
def request_extend(
    request_id: str,
    months: Annotated[int, typer.Option(help="By how many months: 1 or 2 (GDPR Art. 12(3)).")],
    reason: Annotated[str, typer.Option(help="Why, as the requester reads it in the mail they are sent.")],
    by: ByOption,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Extend an open request's deadline once, before its original due date, and mail the requester the new date
    and the reason (GDPR Art. 12(3)). Recorded in the ledger with your staff id (the reason as its sha256)."""
    from flows.lifecycle import extend_deadline

    rt = _runtime(config)
    request = extend_deadline(rt, request_id, months, reason, by)
    typer.echo(f"{request_id}: due {_due(rt, request)}; the requester was told the new date and the reason.")


@app.command()
def run(
    request_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="With a Prefect API: follow the run to its end.")] = False,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Run (or resume) the flow of one verified request.

    With `PREFECT_API_URL` set, or a `dsar worker` running for this config, the run goes to the
    `fulfil_request` deployment and a worker runs it; otherwise it runs in this process.
    """
    from flows import stages
    from identity.errors import IdentityNotVerified

    rt = _runtime(config)
    # A delivered request runs too: every stage is on record, so nothing is redone or sent again, and a run
    # killed after delivering is taken over (its claim released, its Prefect run set Crashed).
    if rt.store.get(request_id).status != "delivered":
        # Clear errors before Prefect starts; a level below the minimum leaves the request awaiting identity.
        if not stages.open_request(rt, request_id).evidence:
            raise IdentityNotVerified(request_id)
        stages.require_minimum_level(rt, request_id)
    rt.sources()
    # A malformed key fails now, not at delivery after the passphrase was mailed.
    rt.package_key, rt.link_secret  # noqa: B018
    api_url = _prefect_api(rt)
    if api_url is None:
        from flows.fulfil import quiet_console_tracebacks, run_request

        quiet_console_tracebacks()
        run_request(request_id)
        _say_status(rt, request_id)
        return

    from prefect.settings import PREFECT_API_URL
    from prefect.settings.context import temporary_settings

    from flows.submit import submit_request, wait_for

    with temporary_settings({PREFECT_API_URL: api_url}):
        flow_run = submit_request(request_id)
        typer.echo(f"{request_id}: flow run {flow_run.id} submitted to {api_url.removesuffix('/api')}", err=True)
        if not wait:
            return
        wait_for(flow_run.id, progress=lambda state: typer.echo(f"{request_id}: {state}", err=True))
    _say_status(rt, request_id)


def _say_status(rt: Runtime, request_id: str) -> None:
    status = rt.store.get(request_id).status
    hint = f" (see: dsar review show {request_id})" if status == "awaiting_review" else ""
    typer.echo(f"{request_id}: {status}{hint}")


@review_app.command("list")
def review_list(config: ConfigOption = Path("dsar.toml")) -> None:
    """List the requests awaiting review, oldest first."""
    from flows.review import awaiting

    for request_id in awaiting(_runtime(config)):
        typer.echo(request_id)


@review_app.command("show")
def review_show(request_id: str, config: ConfigOption = Path("dsar.toml")) -> None:
    """Show what awaits review: records per source and category, redaction counts, withheld items, decisions."""
    from flows.review import show

    view = show(_runtime(config), request_id)
    typer.echo(f"{request_id}\n  status      {view.status}{f' ({view.reason})' if view.reason else ''}")
    typer.echo("  records" + ("     -" if not view.records else ""))
    for source, categories in view.records.items():
        typer.echo(f"    {source}: " + ", ".join(f"{name} {count}" for name, count in categories.items()))
    typer.echo("  redaction   " + (", ".join(f"{k} {v}" for k, v in view.redaction.items()) or "-"))
    typer.echo(f"  withheld    {len(view.withheld) or '-'}")
    for item in view.withheld:
        typer.echo(f"    {item['source']}: {item.get('reason', '?')}, sha256 {item.get('sha256', '?')}, "
                   f"{item.get('bytes', '?')} bytes, Message-ID {item.get('message_id') or '-'}")
    for at, staff, decision, note in view.decisions:
        typer.echo(f"  decision    {at:%Y-%m-%d %H:%M} UTC {decision} by {staff}{f': {note}' if note else ''}")


def _decide(request_id: str, approve: bool, by: str, note: str, config: Path) -> None:
    from flows.review import decide

    rt = _runtime(config)
    decide(rt, request_id, approve, by, note)
    word = "approved" if approve else "rejected: it is failed and its staged data deleted"
    api_url = _prefect_api(rt)
    runs = 0
    if api_url is not None:  # a run suspended for review lives in that Prefect
        from prefect.settings import PREFECT_API_URL
        from prefect.settings.context import temporary_settings

        from flows.fulfil import after_review_decision

        with temporary_settings({PREFECT_API_URL: api_url}):
            runs = after_review_decision(request_id, approve, by)
    if runs:
        typer.echo(f"{request_id}: {word}; its suspended flow run was " + ("resumed." if approve else "cancelled."))
    elif approve:
        typer.echo(f"{request_id}: {word}. dsar run {request_id} finishes the request.")
    else:
        typer.echo(f"{request_id}: {word}. dsar run {request_id} extracts anew and asks for review again.")


NoteOption = Annotated[str, typer.Option(
    help="Why, kept in the request store only (never the ledger); no identity codes or card numbers.")]


@review_app.command("approve")
def review_approve(request_id: str, by: ByOption, note: NoteOption = "",
                   config: ConfigOption = Path("dsar.toml")) -> None:
    """Approve what was staged: the request goes on to packaging and delivery."""
    _decide(request_id, True, by, note, config)


@review_app.command("reject")
def review_reject(request_id: str, by: ByOption, note: NoteOption = "",
                  config: ConfigOption = Path("dsar.toml")) -> None:
    """Reject what was staged: nothing is delivered, the request is failed and its staged data deleted."""
    _decide(request_id, False, by, note, config)


def _prefect_api(rt: Runtime) -> str | None:
    """The Prefect API runs go to: `PREFECT_API_URL`, or the server of this config's `dsar worker`."""
    from flows.local_api import find_local_api

    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    local = find_local_api(rt.config.base_dir)
    return None if local is None else local.url


@app.command()
def worker(
    slots: Annotated[int, typer.Option(min=1, help="Flow runs at a time.")] = 2,
    pool: Annotated[str, typer.Option(help="The Prefect work pool to serve.")] = "dsar",
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between polls for new runs.")] = 0.1,
    task_runs: Annotated[bool, typer.Option(
        "--task-runs", help="Have the Prefect server it starts record task runs (each request then waits ~2 s "
        "longer: SQLite's write lock).")] = False,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Run requests as they are submitted, in this warm process, until stopped.

    Registers the deployments (fulfil_request; expire_packages hourly; deadline_watch daily) on the work pool. Without
    `PREFECT_API_URL` it starts a Prefect server on loopback (UI included) that `dsar run` and
    `dsar demo` find by themselves.
    """
    from flows.worker import serve as serve_worker

    rt = _runtime(config)
    rt.sources()  # a broken config fails now, not in the first request
    rt.package_key, rt.link_secret  # noqa: B018 - and so does a malformed key
    serve_worker(rt.config.path, pool, slots, poll, announce=lambda line: typer.echo(line, err=True),
                 record_task_runs=task_runs)


@app.command()
def serve(
    config: ConfigOption = Path("dsar.toml"),
    host: Annotated[str, typer.Option(help="Address to listen on (behind a TLS proxy in production).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Serve the requesters' portal: ask, prove who you are, follow the request, download. Until interrupted."""
    _serve_portal(_runtime(config), host, port)


def _serve_portal(rt: Runtime, host: str, port: int) -> None:
    import threading

    from flows.check import check_config, line
    from flows.portal.app import make_app
    from flows.portal.server import listening
    from flows.portal.server import run as run_portal

    app = make_app(rt)
    try:
        sock = listening(host, port)
    except OSError as exc:
        typer.echo(f"dsar: error: cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port",
                   err=True)
        raise typer.Exit(2) from None

    def report() -> None:
        # The portal serves even so (downloads of delivered requests need no source), but the privacy team
        # hears at once what would stop the next request; in a thread, as a silent server takes a while.
        for finding in check_config(rt.config):
            if finding.status != "ok":
                typer.echo(line(finding), err=True)

    threading.Thread(target=report, daemon=True).start()
    typer.echo(f"Portal on http://{host}:{port} (requesters reach it at {rt.config.delivery.public_url}; "
               "Ctrl-C stops)", err=True)
    run_portal(app, sock, rt.config.portal.trusted_proxies)


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
        help="The controller's published public key (base64); by default derived from DSAR_LEDGER_KEY "
        "(with --bundle: the bundle's own key, whose fingerprint you then compare with the published one).")] = None,
    bundle: Annotated[Path | None, typer.Option(
        help="Verify an evidence bundle (dsar audit export) instead, offline: no database or dsar.toml needed.")
    ] = None,
) -> None:
    """Recompute the ledger's hash chain and signatures, compare it with its signed checkpoint and WORM copies,
    then check that the request store agrees with it; exit 2 naming each tampering (edited, reordered,
    inserted, truncated or rewritten events, a forged anchor) and each request and stage where the two
    disagree.

    With --bundle DIR: check the bundle's manifest signature and every file's sha256, each event's hash,
    the chain's links and signatures, and that it reaches the signed head; exit 2 naming the first problem."""
    from audit.signing import load_public_key

    try:
        key = load_public_key(public_key) if public_key else None
    except ValueError:
        raise typer.BadParameter("not a base64 Ed25519 public key", param_hint="--public-key") from None
    if bundle is not None:
        _verify_bundle(bundle, key)
        return
    from audit.ledger import Ledger
    from audit.signing import fingerprint
    from flows.ledger_check import cross_check
    from flows.ledger_verify import verify_anchored

    rt = _runtime(config)
    key = key or rt.ledger_public_key
    ledger = Ledger(rt.engine)  # read-only: no signing key needed
    report, notes = verify_anchored(rt, ledger, key, check_key_home=public_key is None)
    for problem in report.problems:
        typer.echo(f"dsar: {'error' if problem.tampered else 'warning'}: {problem.message}", err=True)
    if not report.tampered:
        typer.echo(f"ledger intact: {report.count} events verified{notes}")
        # What the verdict rests on: an auditor compares both with what the controller published and told them.
        typer.echo(f"signed by the key with fingerprint {fingerprint(key)}"
                   + (f"; WORM copies read from {rt.config.audit.worm_url}" if rt.config.audit.worm_url else ""))
    mismatches = 0
    for mismatch in cross_check(rt.engine, ledger):
        typer.echo(f"dsar: store and ledger disagree: {mismatch}", err=True)
        mismatches += 1
    if mismatches:
        typer.echo(f"dsar: error: {mismatches} disagreement(s) between the request store and the ledger", err=True)
    else:
        typer.echo("store and ledger agree")
    if mismatches or report.tampered:
        raise typer.Exit(2)


def _verify_bundle(folder: Path, key: bytes | None) -> None:
    from audit.bundle import verify_bundle
    from audit.errors import BundleInvalid
    from audit.signing import encode_key, fingerprint

    # One line naming the path (a usage box would wrap it), before any file of the bundle is looked for.
    if not folder.is_dir():
        what = "is a file, not a bundle directory" if folder.exists() else "no such directory"
        typer.echo(f"dsar: error: --bundle {folder}: {what} (give the directory `dsar audit export` wrote)", err=True)
        raise typer.Exit(2)
    try:
        report = verify_bundle(folder, key)
    except BundleInvalid as exc:
        typer.echo(f"dsar: bundle invalid: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"bundle intact: {report.events} event(s) of {report.request_id}, chain seq {report.first_seq}.."
               f"{report.last_seq} verified, reaching the signed head at seq {report.head_seq}")
    if key is None:
        typer.echo(f"checked with the bundle's own public key {encode_key(report.public_key)} (fingerprint "
                   f"{fingerprint(report.public_key)}): compare it with the key the controller publishes "
                   "(`dsar audit public-key`), or pass that key with --public-key")


@audit_app.command("export")
def audit_export(
    request_id: str,
    out: Annotated[Path, typer.Option("--out", help="A new (or empty) directory for the bundle.", file_okay=False)],
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Write a request's evidence bundle for a regulator: its ledger events with the chain segment and signatures
    that verify them (other requests' events reduced to hashes), the public key, the signed ledger head, the
    replay as JSON and HTML, and a signed manifest. Check it anywhere with `dsar audit verify --bundle DIR`."""
    from exports.request_ids import check_request_id
    from flows.audit_export import export_bundle

    try:
        check_request_id(request_id)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="REQUEST_ID") from None
    rt = _runtime(config)
    try:
        head = rt.ledger_head()
    except ValueError as exc:  # names the file, never its content
        raise typer.BadParameter(str(exc), param_hint="[audit] checkpoint_file") from None
    if head is None:
        raise typer.BadParameter(f"the ledger has no signed head yet ({rt.checkpoint_path} is missing); "
                                 "the next event of any request writes it", param_hint="[audit] checkpoint_file")
    written = export_bundle(rt, request_id, out, head, _prefect_api(rt))
    typer.echo(f"{request_id}: evidence bundle written to {written}; check it with: "
               f"dsar audit verify --bundle {written}")


@audit_app.command("public-key")
def audit_public_key(config: ConfigOption = Path("dsar.toml")) -> None:
    """Print the ledger's public key (base64) for the controller to publish to auditors."""
    from audit.signing import encode_key

    typer.echo(encode_key(_runtime(config).ledger_public_key))


@audit_app.command("replay")
def audit_replay(
    request_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for tools (format dsar-replay/1; its keys "
                                          "are listed in flows/replay.py and the README's For auditors).")] = False,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Print one request's timeline: each ledger event, in UTC and the controller's time zone, with the state of
    the Prefect flow run and task that did it, and whether the stored package still has the ledger's sha256.

    Prefect is read at PREFECT_API_URL, this config's `dsar worker`, or Prefect's local (ephemeral) API; when it
    cannot be reached or has pruned the runs, the replay says so and shows the ledger alone."""
    from flows.replay import replay

    rt = _runtime(config)
    result = replay(rt, request_id, _prefect_api(rt))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        typer.echo("\n".join(result.lines()))


@app.command("verify")
def verify_package(
    package: Annotated[Path, typer.Argument(
        help="REQ-ID.zip; REQ-ID.zip.age with --passphrase-file or --identity; a password-protected (AES) "
        "REQ-ID.zip with --passphrase-file.", exists=True, dir_okay=False, metavar="PACKAGE", show_default=False)],
    public_key: Annotated[str | None, typer.Option(
        help="The controller's published package key (base64), or a file holding it; "
        "by default the key of the controller in --config. Never a key found in the package.")] = None,
    passphrase_file: Annotated[Path | None, typer.Option(
        help="A file holding the passphrase of a .age package or a password-protected zip.", exists=True,
        dir_okay=False)] = None,
    identity: Annotated[Path | None, typer.Option(
        help="Your age identity file (age-keygen's), for a .age package sealed to your key.", exists=True,
        dir_okay=False)] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Check a package's signature and every file's hash; exit 1 naming the first bad file."""
    from exports.errors import DecryptionFailed, PackageInvalid
    from exports.verify import verify_aes_package, verify_package, verify_sealed_package

    if passphrase_file is not None and identity is not None:
        raise typer.BadParameter("give one of them", param_hint="--passphrase-file / --identity")
    sealed = package.name.endswith(".age")
    if sealed and passphrase_file is None and identity is None:
        raise typer.BadParameter("a .age package needs it", param_hint="--passphrase-file or --identity")
    if identity is not None and not sealed:
        raise typer.BadParameter("only a .age package opens with an age identity", param_hint="--identity")
    key = _package_public_key(public_key) if public_key else _runtime(config).package_public_key
    try:
        if identity is not None:
            try:
                keys = identity.read_text(encoding="utf-8")
                verified = verify_sealed_package(package, key, identity=keys)
            except (UnicodeDecodeError, ValueError):  # never echoed: the file holds a secret key
                raise typer.BadParameter("not an age identity file", param_hint="--identity") from None
        elif passphrase_file is None:
            verified = verify_package(package, key)
        else:
            passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
            if not passphrase:
                raise typer.BadParameter(f"{passphrase_file} is empty", param_hint="--passphrase-file")
            verified = (verify_sealed_package(package, key, passphrase=passphrase) if sealed
                        else verify_aes_package(package, key, passphrase))
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


@index_app.command("mail")
def index_mail(
    source: Annotated[str | None, typer.Option(help="Only this mail source (default: every one).")] = None,
    config: ConfigOption = Path("dsar.toml"),
) -> None:
    """Build or update the address index of the mail sources: a re-run reads only new mail."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from flows.mail_index import index_mail_sources

    with Progress(SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} messages"),
                  TimeElapsedColumn(), transient=True) as bar:
        def progress(name: str) -> Callable[[int], None]:
            task = bar.add_task(name, total=None)
            return lambda count: bar.update(task, completed=count)

        for name, stats in index_mail_sources(config, source, progress):
            how = f"rebuilt ({stats.rebuilt})" if stats.rebuilt else "updated"
            bar.console.print(f"{name}: {how}, {stats.parsed:,} messages indexed in {stats.seconds:.1f} s "
                              f"({stats.per_second:,.0f} messages/s), {stats.removed:,} removed, "
                              f"{stats.total:,} in the index")
            if stats.unnamed:
                bar.console.print(f"{name}: {stats.unnamed:,} files whose names are not UTF-8 are not indexed "
                                  "(read on every request; rename them to index them)")


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    # Staged records, the request store and packages hold personal data: private to this account.
    os.umask(0o077)
    try:
        app()
    except SAFE_ERRORS as exc:
        typer.echo(f"dsar: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

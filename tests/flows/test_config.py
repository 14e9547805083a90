"""A wrong config fails at load with one line naming the file and the key."""

from pathlib import Path

import pytest

from flows.config import load_config
from flows.demo.settings import demo_config
from flows.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dsar.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "dsar.env").write_text("X=1\n")
    (tmp_path / "dsar.env").chmod(0o600)
    return path


@pytest.fixture
def good(tmp_path):
    return demo_config("http://127.0.0.1:1/3.0", "asiakaspalvelu@demokauppa.example")


def test_the_demo_config_loads(tmp_path, good):
    config = load_config(write(tmp_path, good), environ={})
    assert [s.name for s in config.sources] == ["customers", "support_mail", "marketing"]
    assert config.controller.name == "Demo Kauppa Oy"
    assert config.environ["X"] == "1"
    assert config.sqlalchemy_url("sqlite:///dsar.db") == f"sqlite:///{tmp_path / 'dsar.db'}"
    assert (config.identity.allow_smtputf8, config.identity.unverified_lapse_days) == (False, 7)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (lambda t: t.replace('name = "Demo Kauppa Oy"\n', ""), "controller.name", "missing"),
        (lambda t: t.replace("[controller]\n", '[controller]\nnmae = "x"\n'), "controller.nmae", "unknown key"),
        (lambda t: t.replace("link_hours = 168", "link_hours = 0"), "delivery.link_hours", "greater than"),
        (lambda t: t.replace('kind = "mail"', ""), "sources.1.kind", "missing"),
        (lambda t: t.replace('sources = ["marketing"]', 'sources = ["crm"]'), "activities.1.sources", "crm"),
        (lambda t: t.replace('name = "support_mail"', 'name = "../etc"'), "sources.1.name", "letters"),
        (lambda t: t.replace("[mail]", "[mail"), "(syntax)", "line"),
        (lambda t: t.replace('path = "support.mbox"', 'path = "support.mbox"\nprovided_by_subject = "yes"'),
         "sources.1.provided_by_subject", "true, false or a list of keys"),
        (lambda t: t + '[package]\nsigning_key_file = "x"\n', "package.signing_key_file", "unknown key"),
        (lambda t: t.replace('source = "customers"', 'source = "crm"'), "identity.knowledge.source", "crm"),
        (lambda t: t.replace('staff_ids = ["anna.k"', 'staff_ids = ["Anna K"'), "identity.staff_ids.0", "pattern"),
        (lambda t: t.replace('[identity]\n', '[identity]\nmanual_levels = { in_person = "full" }\n'),
         "identity.manual_levels.in_person", "'low', 'substantial' or 'high'"),
        (lambda t: t.replace('identity_level = "low"\nkind = "mail"', 'identity_level = "medium"\nkind = "mail"'),
         "sources.1.identity_level", "use one of low, substantial, high"),
        (lambda t: t.replace('minimum_level = "low"', 'minimum_level = "strong"'), "identity.minimum_level",
         "'low', 'substantial' or 'high'"),
        (lambda t: t.replace("[identity]\n", "[identity]\nunverified_lapse_days = 0\n"),
         "identity.unverified_lapse_days", "greater than"),
        (lambda t: t.replace("[identity]\n", '[identity]\nallow_smtputf8 = "maybe"\n'),
         "identity.allow_smtputf8", "bool"),
        # Issue 10: each names the key, and says what to give.
        (lambda t: t.replace('business_id = "1234567-1"', 'business_id = ""'), "controller.business_id",
         "empty; give the controller's Y-tunnus"),
        (lambda t: t.replace('business_id = "1234567-1"', 'business_id = "1234567-8"'), "controller.business_id",
         "the check digit does not match"),
        (lambda t: t.replace('business_id = "1234567-1"', 'business_id = "FI12345671"'), "controller.business_id",
         "NNNNNNN-N"),
        (lambda t: t.replace("[identity]\n", '[identity]\nmethod = "email_code"\n'), "identity.method",
         "unknown key; valid keys: methods, code_ttl_minutes, code_attempts, allow_smtputf8, unverified_lapse_days, "
         "minimum_level, other_recipient_level, knowledge, staff_ids, manual_levels, oidc"),
        (lambda t: t.replace("[identity.knowledge]\n", '[identity.knowledge]\ncolour = "red"\n'),
         "identity.knowledge.colour", "unknown key; valid keys: source, attempts, lockout_days, name,"),
        (lambda t: t.replace("postal_address =", "address ="), "controller.address",
         "unknown key; valid keys: name, business_id, contact_email, phone, postal_address, dpo_name,"),
        (lambda t: t.replace(', en = "Contract (Art. 6(1)(b))."', ""), "activities.0.legal_basis.en",
         "missing; controller.languages lists en"),
        (lambda t: t.replace('en = "Carriers, to deliver orders."', 'en = " "'), "activities.0.recipients.en",
         "empty; controller.languages lists en"),
        (lambda t: t.replace('en = "Office of the Data Protection Ombudsman, tietosuoja.fi"', 'en = ""'),
         "controller.supervisory_authority.en", "empty; controller.languages lists en"),
        (lambda t: t.replace('contact_email = "tietosuoja@demokauppa.example"', 'contact_email = "tietosuoja"'),
         "controller.contact_email", "not an email address"),
        (lambda t: t.replace('dpo_email = "dpo@demokauppa.example"', 'dpo_email = "Liisa <dpo@x.example>"'),
         "controller.dpo_email", "not an email address"),
        (lambda t: t.replace('phone = "+358 9 123 4567"', 'phone = "call us"'), "controller.phone", "pattern"),
        # A language the text may not hold is named as the text's key, not pydantic's "sv.[key]".
        (lambda t: t.replace('legal_basis = { fi =', 'legal_basis = { sv = "Avtal", fi ='),
         "activities.0.legal_basis.sv", "Input should be 'fi' or 'en'"),
    ],
)
def test_a_broken_config_names_the_key_and_the_file(tmp_path, good, change, key, message):
    path = write(tmp_path, change(good))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    text = str(error.value)
    assert text.startswith(f"{path}: {key}: ")
    assert message in text
    assert "\n" not in text


def test_a_language_the_controller_does_not_answer_in_needs_no_text(tmp_path, good):
    finnish_only = good.replace('languages = ["fi", "en"]', 'languages = ["fi"]').replace(
        ', en = "Contract (Art. 6(1)(b))."', "")
    config = load_config(write(tmp_path, finnish_only), environ={})
    assert config.activities[0].legal_basis == {"fi": "Sopimus (6 art. 1 b)."}


def test_the_controllers_contact_details_load(tmp_path, good):
    controller = load_config(write(tmp_path, good), environ={}).controller
    assert (controller.business_id, controller.phone, controller.postal_address, controller.dpo_name,
            controller.dpo_email) == ("1234567-1", "+358 9 123 4567", "Esimerkkikatu 1, 00100 Helsinki",
                                      "Liisa Laine", "dpo@demokauppa.example")


def test_provided_by_subject_stays_out_of_the_source_settings(tmp_path, good):
    config = load_config(write(tmp_path, good.replace('path = "support.mbox"',
                                                      'path = "support.mbox"\nprovided_by_subject = true')), environ={})
    customers, mail, marketing = config.sources
    assert isinstance(customers.provided_by_subject, tuple)
    assert customers.provided_by_subject[:3] == ("first_name", "last_name", "email")
    assert (mail.provided_by_subject, marketing.provided_by_subject) == (True, False)
    assert all("provided_by_subject" not in s.settings for s in config.sources)


def test_identity_levels_stay_out_of_the_source_settings_and_make_the_policy(tmp_path, good):
    changed = good.replace('identity_level = "low"\nkind = "sql"', 'identity_level = "substantial"\nkind = "sql"')
    config = load_config(write(tmp_path, changed.replace('minimum_level = "low"\n', "")), environ={})
    assert all("identity_level" not in s.settings for s in config.sources)
    policy = config.identity_policy()
    assert dict(policy.source_levels) == {"customers": "substantial", "support_mail": "low", "marketing": "low"}
    assert (policy.minimum_level, policy.other_recipient_level) == ("low", "high")


def test_the_package_key_comes_from_the_named_variable(tmp_path, good):
    import base64

    from audit.signing import generate_key
    from flows.runtime import Runtime

    key = generate_key()
    path = write(tmp_path, good + '[package]\nsigning_key_env = "MY_PACKAGE_KEY"\n')
    assert Runtime(load_config(path, environ={"MY_PACKAGE_KEY": base64.b64encode(key).decode()})).package_key == key
    with pytest.raises(ConfigError, match=r"package.signing_key_env: environment variable MY_PACKAGE_KEY is not set"):
        _ = Runtime(load_config(path, environ={})).package_key
    with pytest.raises(ConfigError, match=r"package.signing_key_env: MY_PACKAGE_KEY must hold the base64"):
        _ = Runtime(load_config(path, environ={"MY_PACKAGE_KEY": "c2hvcnQ="})).package_key


def test_a_missing_file_says_how_to_name_one(tmp_path):
    with pytest.raises(ConfigError, match="--config or set DSAR_CONFIG"):
        load_config(tmp_path / "nope.toml")


def test_an_env_file_others_can_read_is_refused(tmp_path, good):
    path = write(tmp_path, good)
    (tmp_path / "dsar.env").chmod(0o644)
    with pytest.raises(ConfigError, match=r"env_file: .*chmod 600"):
        load_config(path, environ={})


def test_a_missing_secret_names_the_variable(tmp_path, good):
    config = load_config(write(tmp_path, good), environ={})
    with pytest.raises(ConfigError, match=r"link_secret_env: environment variable DSAR_LINK_SECRET is not set"):
        config.secret(config.delivery.link_secret_env, "delivery.link_secret_env")


def test_the_environment_wins_over_the_env_file(tmp_path, good):
    config = load_config(write(tmp_path, good), environ={"X": "2"})
    assert config.environ["X"] == "2"


@pytest.mark.parametrize(
    ("write_file", "message"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"[controller]\nname = \"Caf\xe9\"\n"), "is not UTF-8 text"),
    ],
)
def test_an_unreadable_config_file_is_one_line(tmp_path, write_file, message):
    path = tmp_path / "dsar.toml"
    write_file(path)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: (file): ")


def test_a_storage_url_we_cannot_serve_fails_at_load(tmp_path, good):
    path = write(tmp_path, good.replace('url = "file://packages"', 'url = "ftp://host/packages"'))
    with pytest.raises(ConfigError, match=r"storage\.url: unsupported storage URL scheme 'ftp'"):
        load_config(path, environ={})


def test_s3_storage_without_a_kms_key_fails_at_load_naming_the_key(tmp_path, good):
    path = write(tmp_path, good.replace('url = "file://packages"', 'url = "s3://bucket/prefix"'))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert str(error.value) == (f"{path}: storage.kms_key_id: s3:// storage needs kms_key_id: "
                                "packages are stored with SSE-KMS")


def test_s3_storage_with_a_kms_key_loads_and_the_runtime_stores_in_s3(tmp_path, good):
    from exports.storage.s3 import S3Storage
    from flows.runtime import Runtime

    s3 = 'url = "s3://bucket/prefix"\nkms_key_id = "alias/dsar"\nregion = "eu-north-1"'
    config = load_config(write(tmp_path, good.replace('url = "file://packages"', s3)), environ={})
    storage = Runtime(config).storage
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.kms_key_id, storage.region) == (
        "bucket", "prefix/", "alias/dsar", "eu-north-1")


def test_a_store_that_cannot_open_names_the_key_not_the_url(tmp_path, good):
    from flows.runtime import Runtime

    path = write(tmp_path, good.replace('url = "sqlite:///dsar.db"', 'url = "postgresql://u:hunter2@db/dsar"'))
    with pytest.raises(ConfigError, match=r"store\.url: cannot open the request store") as error:
        _ = Runtime(load_config(path, environ={})).store
    assert "hunter2" not in str(error.value)


def test_a_broken_source_section_fails_before_any_flow(tmp_path, good):
    from flows.runtime import Runtime

    path = write(tmp_path, good)
    with pytest.raises(ConfigError, match=r"sources\.2: .*MAILCHIMP_API_KEY is not set"):
        Runtime(load_config(path, environ={})).sources()
    broken = write(tmp_path, good.replace('table = "orders"', 'table = "orders", colour = "red"'))
    with pytest.raises(ConfigError, match=r"sources\.0: .*colour: unknown key; valid keys: category, table, schema,"):
        Runtime(load_config(broken, environ={"MAILCHIMP_API_KEY": "k"})).sources()


def test_redaction_keeps_the_controllers_own_postal_address_and_phone(tmp_path, good):
    config = load_config(write(tmp_path, good), environ={})
    keep = config.redaction.policy(config.controller).keep
    assert "Esimerkkikatu 1, 00100 Helsinki" in keep and "+358 9 123 4567" in keep and "" not in keep


def test_the_keys_dsar_keeps_from_a_source_are_the_source_sections_model():
    # A key dsar reads itself must be in SourceSection (so it is validated and documented) and be kept out of
    # the kind's settings; one without the other is a key the kind rejects or nobody checks.
    from flows.config import _RUN_KEYS, _SPEC_KEYS, SourceSection

    assert set(_SPEC_KEYS + _RUN_KEYS) == set(SourceSection.model_fields)

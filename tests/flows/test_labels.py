"""A source section's `label` and `labels`: read at load, wrong ones named by key, resolved per language."""

import pytest

from extractors.labels import KindLabels, both
from flows.config import load_config
from flows.demo.settings import demo_config
from flows.errors import ConfigError
from flows.labels import PackageLabels, category_labels, kind_labels
from tests.flows.test_config import write

CUSTOMERS = 'kind = "sql"\nurl = "sqlite:///customers.db"\n'


@pytest.fixture
def good():
    return demo_config("http://127.0.0.1:1/3.0", "asiakaspalvelu@demokauppa.example")


def with_labels(text: str, labels: str) -> str:
    assert CUSTOMERS in text
    return text.replace('label = { fi = "Asiakasrekisteri", en = "Customer register" }\n', "").replace(
        "labels.", "old_labels.").replace(CUSTOMERS, CUSTOMERS + labels).replace("old_labels.", "labels.")


def test_the_demo_labels_load_and_are_not_passed_to_the_source(tmp_path, good):
    config = load_config(write(tmp_path, good), environ={})
    customers = config.sources[0]
    assert customers.labels.label == {"fi": "Asiakasrekisteri", "en": "Customer register"}
    assert customers.labels.labels.columns["order_items.product"] == {"fi": "Tuote", "en": "Product"}
    assert "label" not in customers.settings and "labels" not in customers.settings
    assert config.sources[1].labels.labels.categories == {}


@pytest.mark.parametrize(
    ("labels", "key", "message"),
    [
        ('label = "Asiakasrekisteri"\n', "sources.0.label", "dictionary"),
        ('label = { fi = "Asiakasrekisteri" }\n', "sources.0.label", "no en text"),
        ('label = { fi = "", en = "x" }\n', "sources.0.label.fi", "at least 1 character"),
        ('label = { fi = "a", en = "b", sv = "c" }\n', "sources.0.label.sv", "'fi' or 'en'"),
        ('labels.tables = { x = { fi = "a", en = "b" } }\n', "sources.0.labels.tables", "unknown key"),
        ('labels.columns.sukunimi = { en = "Surname" }\n', "sources.0.labels.columns.sukunimi", "no fi text"),
        ('labels.categories.asiakkaat = { fi = "A" }\n', "sources.0.labels.categories.asiakkaat", "no en text"),
        ('labels.columns."a.b.c" = { fi = "A", en = "B" }\n', "sources.0.labels.columns.a.b.c",
         '"column" (in every category) or "category.column"'),
        ('labels.columns.".b" = { fi = "A", en = "B" }\n', "sources.0.labels.columns..b", '"category.column"'),
    ],
)
def test_a_wrong_label_names_its_key(tmp_path, good, labels, key, message):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, with_labels(good, labels)), environ={})
    assert caught.value.key == key, str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_controller_in_finnish_only_needs_finnish_labels_only(tmp_path, good):
    text = with_labels(good, 'label = { fi = "Asiakasrekisteri" }\n').replace(
        'languages = ["fi", "en"]', 'languages = ["fi"]')
    assert 'languages = ["fi"]' in text
    config = load_config(write(tmp_path, text), environ={})
    assert PackageLabels.of(config.sources, "fi").source("customers") == "Asiakasrekisteri"
    assert PackageLabels.of(config.sources, "en").source("customers") == ""  # the package humanises the name


def test_unknown_category_and_column_names_load(tmp_path, good):
    """Sources decide their categories and columns at run time: a label for one that never comes is no error."""
    text = with_labels(good, 'labels.columns."nosuch.column" = { fi = "A", en = "B" }\n')
    load_config(write(tmp_path, text), environ={})


def test_the_config_wins_over_the_kind_and_a_category_scope_over_a_general_label(tmp_path, good):
    config = load_config(write(tmp_path, good), environ={})
    labels = PackageLabels.of(config.sources, "en")
    assert labels.category("customers", "order_items") == (
        "Order items", {"first_name": "First name", "last_name": "Surname", "email": "Email", "phone": "Phone",
                        "total_cents": "Total (cents)", "product": "Product"})
    assert labels.category("customers", "orders")[1].get("product") is None  # scoped to order_items
    assert labels.category("customers", "nosuch") == ("", labels.category("customers", "orders")[1])
    assert labels.category("support_mail", "messages")[0] == "Mail messages"  # the kind's own
    assert PackageLabels.of(config.sources, "fi").category("support_mail", "messages")[1]["subject"] == "Aihe"
    assert labels.category("unconfigured", "x") == ("", {})

    kind = KindLabels({"messages": both("Viestit", "Messages")}, {"subject": both("Aihe", "Subject"),
                                                                   "messages.body": both("Teksti", "Text")})
    config_labels = config.sources[1].labels.model_copy(update={"labels": config.sources[1].labels.labels.model_copy(
        update={"columns": {"subject": {"fi": "Otsikko", "en": "Title"}, "body": {"fi": "Runko", "en": "Body"}}})})
    # The config's general label beats the kind's scoped one: the controller said so.
    assert category_labels(config_labels, kind, "messages", "fi") == (
        "Viestit", {"subject": "Otsikko", "body": "Runko"})


def test_the_built_in_kinds_have_labels_and_an_unknown_kind_none():
    assert kind_labels("mail").categories["messages"] == {"fi": "Sähköpostiviestit", "en": "Mail messages"}
    assert kind_labels("mailchimp").columns["email_address"]["en"] == "Email address"
    assert kind_labels("sql") == KindLabels()  # a database's columns are its own: they are humanised
    assert kind_labels("no-such-kind") == KindLabels()

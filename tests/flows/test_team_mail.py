"""The mail that tells the privacy team a request failed: once per failure, in the controller's language."""

import email
import email.policy

from flows import stages
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import StageFailed
from flows.runtime import open_runtime
from flows.team_mail import failure_key, tell_failure


def test_one_mail_per_failure_in_the_controllers_first_language(tmp_path):
    demo, _ = prepare_demo(tmp_path / "demo")
    path = write_demo_config(demo, "http://127.0.0.1:9/3.0")
    path.write_text(path.read_text(encoding="utf-8").replace('languages = ["fi", "en"]', 'languages = ["en", "fi"]'),
                    encoding="utf-8")
    rt = open_runtime(path)
    request = stages.register(rt, demo.subject_email, "fi", name=demo.subject_name)
    failure = StageFailed(request.id, "package", "internal error (KeyError)")

    assert tell_failure(rt, failure, "run-1")
    assert not tell_failure(rt, failure, "run-1")  # the same failure again: nothing more
    assert tell_failure(rt, failure, "run-2")
    sent = sorted((tmp_path / "demo" / "outbox").glob(f"{request.id}-failed-*.eml"))
    assert [p.stem for p in sent] == [failure_key(request.id, "run-1"), failure_key(request.id, "run-2")]
    body = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default).get_content()
    assert f"Data request {request.id} stopped at stage package." in body
    assert "Reason: internal error (KeyError)" in body
    text = sent[0].read_text(encoding="utf-8")
    assert "To: tietosuoja@demokauppa.example" in text  # no [notify] team_email: the controller's contact address
    assert demo.subject_email not in text.lower() and demo.subject_name not in text

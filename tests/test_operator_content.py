"""Editing what the assistant knows and says: clean YAML, validation before writing,
version checks, the deployment stack. Real files in a temporary copy of the project."""
import difflib
import re
from pathlib import Path

import pytest

from bot.db.models import ModelDeployment
from bot.operator import deployment, responses, stories, training_data
from bot.operator.validation import validate
from bot.operator.yaml_files import DOMAIN, ContentError, ContentFiles, VersionConflict, dump, parse
from bot.runtime.training import fingerprint
from bot.settings import PROJECT_ROOT
from tests.operator_content import copy_content


@pytest.fixture
def files(tmp_path) -> ContentFiles:
    return ContentFiles(copy_content(tmp_path / "content"))


def changed_lines(before: str, after: str):
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_every_content_file_is_already_in_the_console_format():
    """So a console edit shows up in git as just the lines that changed."""
    names = [DOMAIN, "tests/test_stories.yml", *(str(p.relative_to(PROJECT_ROOT))
                                                  for p in sorted((PROJECT_ROOT / "data").glob("*/*.yml")))]
    for name in names:
        text = (PROJECT_ROOT / name).read_text(encoding="utf-8")
        assert dump(parse(text)) == text, name


def test_adding_an_example_changes_one_line(files):
    before, version = files.read("data/nlu/smalltalk.yml")
    greet = next(i for i in training_data.list_intents(files) if i["intent"] == "greet")
    name, text, _, _ = training_data.set_examples(files, "greet", greet["examples"] + ["ahoy shipmate"])
    assert name == "data/nlu/smalltalk.yml"
    files.write({name: text}, {name: version})
    assert changed_lines(before, files.read(name)[0]) == ["+    - ahoy shipmate"]


def test_examples_are_checked(files):
    for bad, message in (([], "at least one"), (["hi", "hi"], "twice"), (["  "], "empty"), ("hi", "list")):
        with pytest.raises(ContentError, match=message):
            training_data.set_examples(files, "greet", bad)
    with pytest.raises(ContentError) as error:
        training_data.set_examples(files, "no_such_intent", ["x"])
    assert error.value.status == 404


def test_a_second_save_from_an_old_version_is_refused(files):
    text, version = files.read(DOMAIN)
    files.write({DOMAIN: text + "\n"}, {DOMAIN: version})
    with pytest.raises(VersionConflict) as error:
        files.write({DOMAIN: text + "\n\n"}, {DOMAIN: version})
    assert error.value.status == 409 and "changed by someone else" in error.value.message


def test_only_content_files_can_be_addressed(files):
    for name in ("../etc/passwd", "bot/settings.py", "data/nlu/../../x.yml", "config.yml"):
        with pytest.raises(ContentError):
            files.path(name)


def test_a_response_needs_every_language_and_the_same_placeholders(files):
    with pytest.raises(ContentError, match="missing: zh"):
        responses.set_response(files, "utter_greet", [{"language": "en", "text": "Hi"}], create=False)
    with pytest.raises(ContentError, match="placeholders"):
        responses.set_response(files, "utter_greet", [{"language": "en", "text": "Hi {name}"},
                                                      {"language": "zh", "text": "你好"}], create=False)
    with pytest.raises(ContentError, match="title and a payload"):
        responses.set_response(files, "utter_greet", [
            {"language": "en", "text": "Hi", "buttons": [{"title": "Points"}]}, {"language": "zh", "text": "你好"}],
            create=False)
    with pytest.raises(ContentError, match="already exists"):
        responses.set_response(files, "utter_greet", [{"language": "en", "text": "Hi"},
                                                      {"language": "zh", "text": "你好"}], create=True)


def test_a_response_edit_keeps_the_language_conditions_and_buttons(files):
    variations = [{"language": "en", "text": "Hello there", "buttons": [{"title": "My points", "payload": "/check_points"}]},
                  {"language": "en", "text": "Ahoy"}, {"language": "zh", "text": "您好"}]
    before, version = files.read(DOMAIN)
    text, old, new = responses.set_response(files, "utter_greet", variations, create=False)
    files.write({DOMAIN: text}, {DOMAIN: version})
    assert [v["language"] for v in old] == ["en", "zh"]
    saved = next(r for r in responses.list_responses(files)["responses"] if r["name"] == "utter_greet")
    assert saved["variations"] == [{**v, "buttons": v.get("buttons", [])} for v in variations]
    assert all(line.startswith(("+", "-")) for line in changed_lines(before, text))
    assert "- condition:\n    - type: slot\n      name: language\n      value: en\n    text: Ahoy" in text


def test_stories_read_as_steps(files):
    listed = {(s["file"], s["name"]): s for s in stories.list_stories(files)}
    greet = listed[("data/rules/smalltalk.yml", "greet")]
    assert greet["kind"] == "rule"
    assert greet["steps"] == [{"who": "user", "what": "greet"}, {"who": "bot", "what": "utter_greet"}]
    assert parse(greet["yaml"])["steps"][1] == {"action": "utter_greet"}


def test_a_valid_new_story_passes_and_is_appended(files):
    text, before, name = stories.upsert(files, "data/stories/loyalty.yml", None,
                                        "story: thanks after promotions\nsteps:\n- intent: ask_promotions\n"
                                        "- action: action_list_promotions\n- intent: thank\n"
                                        "- action: utter_youre_welcome\n")
    assert before is None and name == "thanks after promotions"
    report = validate(files.root, {"data/stories/loyalty.yml": text})
    assert report.ok, report.errors
    assert text.endswith("  - action: utter_youre_welcome\n")


@pytest.mark.parametrize("story, message", [
    ("story: bad\nsteps:\n- intent: greet\n- action: utter_goodbye\n", "Conflicting stories"),
    ("story: bad\nsteps:\n- intent: nosuch_intent\n- action: utter_greet\n", "nosuch_intent"),
    ("story: bad\nsteps:\n- intent: greet\n- action: utter_nosuch\n", "utter_nosuch"),
    ("story: bad\nsteps:\n- intent: greet\n- action: send_a_rocket\n", "unknown action 'send_a_rocket'"),
])
def test_invalid_stories_are_refused_with_the_reason(files, story, message):
    text, _, _ = stories.upsert(files, "data/stories/loyalty.yml", None, story)
    report = validate(files.root, {"data/stories/loyalty.yml": text})
    assert not report.ok
    assert any(message in error for error in report.errors), report.errors
    assert not any(str(files.root) in error for error in report.errors)  # no temp paths shown


def test_broken_yaml_and_wrong_shapes_are_refused(files):
    for text, message in (("story: x\nsteps: [\n", "not valid YAML"), ("steps:\n- intent: greet\n", "story: <a name>"),
                          ("rule: x\nsteps:\n- intent: greet\n", "belongs in data/rules"),
                          ("story: x\nsteps: []\n", "at least one step")):
        with pytest.raises(ContentError, match=re.escape(message)):
            stories.upsert(files, "data/stories/loyalty.yml", None, text)
    report = validate(files.root, {"data/stories/loyalty.yml": "stories:\n- story: x\n  stepz: []\n"})
    assert not report.ok and "stepz" in report.errors[0]


def test_remembered_schema_checks_find_what_rasas_own_check_finds(files, monkeypatch):
    """Validation remembers the (content, schema) pairs that passed Rasa's schema check;
    the findings and refusals must be those of Rasa's check run every time."""
    from rasa.shared.utils import validation as rasa_validation

    from bot.operator import validation

    bad_shape = {"data/stories/loyalty.yml": "stories:\n- story: x\n  stepz: []\n"}
    story, _, _ = stories.upsert(files, "data/stories/loyalty.yml", None,
                                 "story: bad\nsteps:\n- intent: greet\n- action: utter_goodbye\n")
    cases = [{}, {"data/stories/loyalty.yml": story}, bad_shape]

    def findings(changes):
        try:
            return sorted(validation._findings(files.root, changes))
        except ContentError as error:
            return ["refused", error.message]

    ours = [findings(changes) for changes in cases + cases]  # the second round from memory
    monkeypatch.setattr(rasa_validation, "validate_yaml_schema", rasa_validation.validate_yaml_schema.rasas)
    monkeypatch.setattr(validation, "_remember_valid_schemas", lambda: None)
    rasas = [findings(changes) for changes in cases]
    assert ours == rasas + rasas
    assert ours[2][0] == "refused" and "stepz" in ours[2][1]
    assert any("Conflicting stories" in finding for finding in ours[1])


def test_a_remembered_document_is_a_private_copy_equal_to_a_fresh_parse(files):
    from bot.operator import yaml_files

    names = [DOMAIN, *(f"{folder}/{path.name}" for folder in ("data/nlu", "data/stories", "data/rules")
                       for path in sorted((files.root / folder).glob("*.yml")))]
    for name in names:
        text = (files.root / name).read_text(encoding="utf-8")
        first = parse(text, name)
        fresh = yaml_files._parse(text, name)
        assert dump(first) == dump(fresh) == dump(parse(text, name))
        first.clear() if hasattr(first, "clear") else None  # a caller edits its copy ...
        assert dump(parse(text, name)) == dump(fresh)  # ... and the next one still gets the file
    with pytest.raises(ContentError, match="not valid YAML"):
        parse("a: [\n", "broken.yml")


def test_renaming_onto_an_existing_name_is_refused(files):
    with pytest.raises(ContentError, match="already exists"):
        stories.upsert(files, "data/rules/smalltalk.yml", "goodbye", "rule: greet\nsteps:\n- intent: greet\n"
                                                                    "- action: utter_greet\n")


def test_the_model_fingerprint_follows_the_content_folder(files):
    assert fingerprint(files.root) == fingerprint(PROJECT_ROOT)
    name, text, _, _ = training_data.set_examples(files, "greet", ["hi", "hello"])
    files.write({name: text}, {name: files.read(name)[1]})
    assert fingerprint(files.root) != fingerprint(PROJECT_ROOT)


def test_deployments_form_a_stack_that_rollback_walks_back(session):
    deployment.record(session, "model-b", "model-a", "olivia", "deploy", False)
    deployment.record(session, "model-c", "model-b", "olivia", "deploy", True)
    session.flush()
    assert deployment.stack(session) == ["model-a", "model-b", "model-c"]
    assert deployment.rollback_target(session) == "model-b"
    deployment.record(session, "model-b", "model-c", "olivia", "rollback", False)
    assert deployment.rollback_target(session) == "model-a"
    deployment.record(session, "model-a", "model-b", "olivia", "rollback", False)
    session.flush()
    assert deployment.stack(session) == ["model-a"]
    with pytest.raises(ContentError, match="no earlier"):
        deployment.rollback_target(session)
    assert [row.deployed_by for row in session.query(ModelDeployment)][0] == "startup"


def test_pruning_keeps_the_served_and_the_rollback_model(tmp_path):
    import os
    import time

    from bot.runtime.training import prune

    for index in range(6):
        path = tmp_path / f"model-{index}.tar.gz"
        path.write_text("x")
        os.utime(path, (time.time() + index, time.time() + index))
    prune(tmp_path, keep=2, protect=["model-0.tar.gz"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-0.tar.gz", "model-4.tar.gz", "model-5.tar.gz"]


def test_every_console_string_is_translated():
    """The operator page's script only uses catalog keys that exist in every language."""
    from bot.i18n.catalog import LANGUAGES, catalog

    script = (PROJECT_ROOT / "bot/operator/static/operator.js").read_text(encoding="utf-8")
    page = (PROJECT_ROOT / "bot/operator/static/operator.html").read_text(encoding="utf-8")
    used = set(re.findall(r"\bS\.([a-z_]+)", script)) | set(re.findall(r"\{\{([a-z_]+)\}\}", page))
    used -= {"data", "operator_name"}
    families = {"action_": ["intent_examples", "response_edit", "story_create", "model_deploy", "model_rollback",
                            "announcement_create", "group_edit"],
                "job_status_": ["running", "succeeded", "failed"], "who_": ["user", "bot", "slot", "form"],
                "delivery_": ["delivered", "failed", "missed", "skipped"], "unit_": ["minutes", "hours", "days"],
                "schedule_": ["once", "cron", "interval"], "deploy_kind_": ["deploy", "rollback"]}
    used |= {prefix + name for prefix, names in families.items() for name in names}
    for language in LANGUAGES:
        strings = {**{k[8:]: v for k, v in catalog(language).items() if k.startswith("console.")},
                   **{k[9:]: v for k, v in catalog(language).items() if k.startswith("operator.")}}
        assert not used - set(strings), (language, sorted(used - set(strings)))

"""The operator console end to end: its own running assistant on a copy of the content
files, the operator API with its auth, and a real headless Chromium that edits, trains,
tests, deploys and rolls back while the live bot answers."""
import re
import shutil
import time
import uuid

import pytest
from playwright.sync_api import expect

from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.seed import load_seed
from tests.browser import chromium_page
from tests.conftest import TEST_SECRET
from tests.e2e import agent_token, operator_api, post_event, private_message
from tests.operator_content import copy_content

OLD_GREETING = "Hi! I'm the shop assistant."
NEW_GREETING = "Ahoy! Welcome aboard the shop assistant."


@pytest.fixture(scope="module")
def operator_servers(trained_model, receiver, tmp_path_factory):
    from bot.runtime.servers import BotServers, free_port

    root = tmp_path_factory.mktemp("operator")
    content = copy_content(root / "content")
    models = root / "models"
    models.mkdir()
    shutil.copy(trained_model, models / trained_model.name)
    database = f"sqlite:///{root / 'bot.db'}"
    upgrade(database)
    with session_scope(database) as session:
        load_seed(session)
    servers = BotServers(
        model=models / trained_model.name, rasa_port=free_port(), action_port=free_port(),
        env={"DATABASE_URL": database, "CONTENT_DIR": str(content), "MODELS_DIR": str(models),
             "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "OUTBOUND_WEBHOOKS": f"testchat={receiver.url}",
             "BUSINESS_HOURS": "", "DEFAULT_LANGUAGE": "zh", "SCHEDULER_SYNC_SECONDS": "1"},
        log_dir=root / "logs")
    servers.content = content
    servers.start()
    yield servers
    servers.stop()


def operator_token(servers) -> str:
    status, body = operator_api(servers, "/login", "POST", {"username": "olivia", "password": "demo-agent-pass"})
    assert status == 200, body
    return body["token"]


def reply_to(servers, text: str) -> str:
    user = f"op_{uuid.uuid4().hex[:6]}"
    status, body = post_event(servers, private_message(text, user))
    assert status == 200, body
    return "\n".join(reply.get("text", "") for reply in body["replies"])


def test_the_content_api_needs_an_operator(operator_servers):
    for path in ("/intents", "/responses", "/stories", "/models", "/audit", "/jobs"):
        assert operator_api(operator_servers, path)[0] == 401
        assert operator_api(operator_servers, path, token=agent_token(operator_servers))[0] == 401
    assert operator_api(operator_servers, "/train", "POST")[0] == 401
    assert operator_api(operator_servers, "/deploy", "POST", {})[0] == 401
    status, _ = operator_api(operator_servers, "/login", "POST", {"username": "olivia", "password": "nope"})
    assert status == 401


def test_api_lists_what_the_assistant_knows(operator_servers):
    token = operator_token(operator_servers)
    status, intents = operator_api(operator_servers, "/intents", token=token)
    assert status == 200
    greet = next(i for i in intents if i["intent"] == "greet")
    assert greet["count"] >= 45 and greet["file"] == "data/nlu/smalltalk.yml" and "在吗" in greet["examples"]
    status, listed = operator_api(operator_servers, "/responses", token=token)
    names = {r["name"]: r for r in listed["responses"]}
    assert {v["language"] for v in names["utter_greet"]["variations"]} == {"en", "zh"}
    status, story_list = operator_api(operator_servers, "/stories", token=token)
    assert any(s["name"] == "greet then points" for s in story_list["stories"])
    assert set(story_list["versions"]) >= {"data/stories/loyalty.yml", "data/rules/smalltalk.yml"}


def test_api_refuses_invalid_and_stale_saves_and_writes_nothing(operator_servers):
    token = operator_token(operator_servers)
    _, story_list = operator_api(operator_servers, "/stories", token=token)
    version = story_list["versions"]["data/stories/loyalty.yml"]
    before = (operator_servers.content / "data/stories/loyalty.yml").read_text()
    status, body = operator_api(operator_servers, "/stories", "PUT", {
        "file": "data/stories/loyalty.yml", "name": None, "version": version,
        "yaml": "story: rocket\nsteps:\n- intent: greet\n- action: action_launch_rocket\n"}, token=token)
    assert status == 422 and "action_launch_rocket" in body["error"]
    assert (operator_servers.content / "data/stories/loyalty.yml").read_text() == before
    status, body = operator_api(operator_servers, "/stories/validate", "POST", {
        "file": "data/stories/loyalty.yml", "yaml": "story: x\nsteps: [\n"}, token=token)
    assert status == 200 and not body["ok"] and "not valid YAML" in body["errors"][0]
    assert operator_api(operator_servers, "/stories", "PUT", {"file": "data/stories/loyalty.yml"},
                        token=token)[0] == 400
    assert operator_api(operator_servers, "/intents/greet", "PUT", raw=b"{oops", token=token)[0] == 400

    _, intents = operator_api(operator_servers, "/intents", token=token)
    thank = next(i for i in intents if i["intent"] == "thank")
    first = {"examples": thank["examples"] + ["cheers mate"], "version": thank["version"]}
    second = {"examples": thank["examples"] + ["much obliged"], "version": thank["version"]}
    assert operator_api(operator_servers, "/intents/thank", "PUT", first, token=token)[0] == 200
    status, body = operator_api(operator_servers, "/intents/thank", "PUT", second, token=token)
    assert status == 409 and "changed by someone else" in body["error"]
    assert "much obliged" not in (operator_servers.content / "data/nlu/smalltalk.yml").read_text()
    assert "    - cheers mate\n" in (operator_servers.content / "data/nlu/smalltalk.yml").read_text()
    _, entries = operator_api(operator_servers, "/audit", token=token)
    assert entries[0]["who"] == "olivia" and entries[0]["action"] == "intent.examples"
    assert entries[0]["detail"]["added"] == ["cheers mate"]


def test_an_untested_model_is_not_deployed_without_the_override(operator_servers):
    token = operator_token(operator_servers)
    _, models = operator_api(operator_servers, "/models", token=token)
    status, body = operator_api(operator_servers, "/deploy", "POST", {"model": models["served"]}, token=token)
    assert status == 409 and "not been tested" in body["error"]
    assert operator_api(operator_servers, "/rollback", "POST", token=token)[0] == 409


def wait_for_run(page, kind: str, timeout_ms: int) -> None:
    expect(page.locator("#job h3")).to_contain_text(kind, timeout=10_000)
    status = page.locator("#job-status")
    expect(status).to_have_attribute("data-status", re.compile("succeeded|failed"), timeout=timeout_ms)
    expect(status).to_have_attribute("data-status", "succeeded")


def test_operator_edits_trains_tests_deploys_and_rolls_back_in_the_browser(operator_servers):
    assert OLD_GREETING in reply_to(operator_servers, "hello")
    assert OLD_GREETING not in reply_to(operator_servers, "ahoy shipmate")
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{operator_servers.rasa_url}/operator/")
        expect(page).to_have_url(re.compile(r"/operator/login$"))
        page.fill("#username", "olivia")
        page.fill("#password", "demo-agent-pass")
        page.click("#login")
        expect(page.locator("h1")).to_have_text("运营控制台")  # olivia's saved language
        page.goto(f"{operator_servers.rasa_url}/operator/?lang=en")
        expect(page.locator("h1")).to_have_text("Operator console")

        # a new example for "greet"
        page.click("#intent-list .item[data-intent=greet]")
        page.fill("#new-example", "ahoy shipmate")
        page.click("text=Add example")
        page.click("#save-intent")
        expect(page.locator("#intent-result")).to_contain_text("Saved", timeout=30_000)

        # a new English greeting replaces the old one (add a variation, remove the old)
        page.click("#tabs >> text=Responses")
        page.click("#response-list .item[data-response=utter_greet]")
        page.click("text=Add variation")
        new = page.locator("#variations .variation").last
        new.locator(".variation-language").select_option("en")
        new.locator(".variation-text").fill(NEW_GREETING)
        old = page.locator("#variations .variation", has=page.locator(".variation-text")).first
        expect(old.locator(".variation-text")).to_have_value(re.compile("^Hi! I'm the shop assistant"))
        old.locator("text=Remove variation").click()
        page.click("#save-response")
        expect(page.locator("#response-result")).to_contain_text("Saved", timeout=30_000)

        # an invalid story is refused with its error, live while typing and on save
        page.click("#tabs >> text=Stories & rules")
        page.click("#new-story")
        page.fill("#story-yaml", "story: greet then rocket\nsteps:\n- intent: greet\n- action: action_launch_rocket\n")
        expect(page.locator("#story-check")).to_contain_text("action_launch_rocket", timeout=30_000)
        page.click("#save-story")
        expect(page.locator("#story-result")).to_contain_text("action_launch_rocket", timeout=30_000)
        assert "greet then rocket" not in (operator_servers.content / "data/stories/loyalty.yml").read_text()

        # train, test, deploy
        page.click("#tabs >> text=Train & deploy")
        page.click("#train")
        expect(page.locator("#job")).to_contain_text("Training")
        wait_for_run(page, "Training", 300_000)
        expect(page.locator("#job .log")).to_contain_text("Finished training component")
        page.click("#test")
        wait_for_run(page, ": Test", 180_000)
        stories = (operator_servers.content / "tests/test_stories.yml").read_text().count("\n- story: ")
        expect(page.locator("#job")).to_contain_text(f"Conversation tests: {stories} of {stories} passed")
        page.click("#deploy")
        expect(page.locator("#model-result")).to_contain_text("Done", timeout=60_000)
        assert NEW_GREETING in reply_to(operator_servers, "ahoy shipmate")
        assert NEW_GREETING in reply_to(operator_servers, "hello")

        # roll back to the model the server started with
        page.click("#tabs >> text=Train & deploy")
        expect(page.locator("#model-result")).to_have_text("")  # the panel is drawn afresh: no old "Done"
        page.click("#rollback")
        expect(page.locator("#model-result")).to_contain_text("Done", timeout=60_000)
        assert OLD_GREETING in reply_to(operator_servers, "hello")

        page.click("#tabs >> text=Audit log")
        for action in ("edited examples", "edited a response", "deployed a model", "rolled back the model"):
            expect(page.locator("#audit-table")).to_contain_text(action)
        assert not errors, errors


def test_operator_console_in_chinese(operator_servers):
    with chromium_page(locale="zh-CN") as page:
        page.goto(f"{operator_servers.rasa_url}/operator/login")
        expect(page.locator("h1")).to_have_text("运营控制台 · 登录")
        page.fill("#username", "olivia")
        page.fill("#password", "demo-agent-pass")
        page.click("#login")
        expect(page.locator("h1")).to_have_text("运营控制台")
        expect(page.locator("#tabs")).to_contain_text("意图与例句")
        for tab in ("意图与例句", "回复", "对话流程与规则", "定时公告", "训练与发布", "操作日志"):
            page.click(f"#tabs >> text={tab}")
            time.sleep(0.3)
            assert "{{" not in page.content() and "undefined" not in page.inner_text("main")

"""The operator console's Teams tab in a real headless Chromium: an operator creates a
team, adds an agent to it, sets an agent's languages and routes a category to the new
team (a new ticket then lands there); the tab reads right in English and in Chinese."""
import re
import uuid

from playwright.sync_api import expect

from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.queue import open_routed_ticket
from bot.settings import get_settings
from tests.browser import chromium_page
from tests.e2e import operator_api
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

SAVED = "Saved. New tickets are routed by it at once."


def log_in(page, servers, language: str) -> None:
    page.goto(f"{servers.rasa_url}/operator/login?lang={language}")
    page.fill("#username", "olivia")
    page.fill("#password", "demo-agent-pass")
    page.click("#login")
    expect(page).to_have_url(re.compile(r"/operator/(#\w+)?$"))


def new_complaint_team(servers) -> str:
    user = f"browser_{uuid.uuid4().hex[:8]}"
    with session_scope(servers.env["DATABASE_URL"]) as session:
        routed = open_routed_ticket(session, get_settings(), category="complain", platform="testchat", user_id=user,
                                    conversation_id=f"testchat:private:{user}", reason="customer_request",
                                    language="zh", now=utcnow())
        return routed.team.key


def test_operator_sets_up_a_team_and_its_routing_in_the_browser(operator_servers):  # noqa: F811
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, operator_servers, "en")
        page.goto(f"{operator_servers.rasa_url}/operator/?lang=en#teams")
        expect(page.locator("#tabs button.active")).to_have_text("Teams & routing")
        expect(page.locator("#teams-table")).to_contain_text("after_sales")

        # a new team, with lily in it
        page.fill("#new-team-key", "vip_care")
        page.fill("#new-team-name", "VIP care")
        page.click("#create-team")
        expect(page.locator("#teams-result")).to_have_text(SAVED)
        team = page.locator("#teams-table tr[data-team=vip_care]")
        team.locator(".team-member[value=lily]").check()
        team.locator(".save-members").click()
        expect(page.locator("#teams-result")).to_have_text(SAVED)
        expect(page.locator("#teams-table tr[data-team=vip_care] .team-member[value=lily]")).to_be_checked()
        expect(page.locator("#agents-table tr[data-agent=lily]")).to_contain_text("VIP care")

        # tom answers in English only
        tom = page.locator("#agents-table tr[data-agent=tom]")
        expect(tom.locator(".agent-language[value=zh]")).to_be_checked()
        tom.locator(".agent-language[value=zh]").uncheck()
        tom.locator(".save-languages").click()
        expect(page.locator("#agents-result")).to_have_text(SAVED)
        expect(page.locator("#agents-table tr[data-agent=tom] .agent-language[value=zh]")).not_to_be_checked()

        # complaints go to the new team
        page.locator("#routing-table tr[data-category=complain] select").select_option("vip_care")
        page.click("#save-routing")
        expect(page.locator("#routing-result")).to_have_text(SAVED)
        expect(page.locator("#teams-table tr[data-team=vip_care]")).to_contain_text("Complaint")
        assert new_complaint_team(operator_servers) == "vip_care"

        # deleting it is refused while complaints are routed to it, with the reason
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#teams-table tr[data-team=vip_care] .delete-team").click()
        expect(page.locator("#teams-result")).to_contain_text("cannot be deleted")
        expect(page.locator("#teams-result")).to_contain_text("complain")

        page.click("#tabs >> text=Audit log")
        for action in ("created a team", "changed a team's members", "changed an agent's teams or languages",
                       "changed the ticket routing"):
            expect(page.locator("#audit-table")).to_contain_text(action)
        assert not errors, errors

    token = operator_token(operator_servers)
    _, agents = operator_api(operator_servers, "/agents", token=token)
    assert next(agent for agent in agents if agent["username"] == "tom")["languages"] == ["en"]
    _, routing = operator_api(operator_servers, "/routing", token=token)
    assert routing["routes"]["complain"] == "vip_care"


def test_the_teams_tab_in_chinese_and_in_english(operator_servers):  # noqa: F811
    for language, tab, header, category, availability in (("zh", "团队与分配", "标识", "投诉", "离线"),
                                                          ("en", "Teams & routing", "Key", "Complaint", "Offline")):
        with chromium_page(locale="zh-CN" if language == "zh" else "en-US") as page:
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            log_in(page, operator_servers, language)
            page.goto(f"{operator_servers.rasa_url}/operator/?lang={language}")
            page.click(f"#tabs >> text={tab}")
            expect(page.locator("#teams-table")).to_contain_text(header)
            expect(page.locator("#routing-table")).to_contain_text(category)
            expect(page.locator("#agents-table")).to_contain_text(availability)
            text = page.inner_text("main")
            assert "{{" not in page.content() and "undefined" not in text and "teams." not in text
            assert not errors, errors

"""The insights pages in a real headless Chromium, on a small known dataset written straight
into the servers' database: an operator reads every section in Chinese and in English
(figures, charts and tables the same as compute()'s, CSV links that download the rows of
their table or the days of their series, no label left untranslated), switches the period,
follows a hot spot to its inbox group and its conversation; a team lead reads the people
section of their own teams in the agent console, narrows it to one, and a plain agent is
turned away."""
import csv
import io
import os
import re
import subprocess
import sys
import uuid
from datetime import date, timedelta
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from bot.db import session_scope
from bot.db.models import Agent, MessageRecord, Team, Ticket
from bot.db.types import utcnow
from bot.insights.dashboard import value_text
from bot.insights.periods import local_today, parse_period
from bot.insights.recording import normalize
from bot.insights.scope import EVERY_TEAM, scope_for
from bot.insights.sections import SECTIONS, compute
from bot.settings import PROJECT_ROOT, get_settings
from tests.browser import chromium_page
from tests.e2e import operator_api, post_event, private_message, seeded_database
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

PASSWORD = "demo-agent-pass"
SCORES = (5, 4, 5, 2)
QUESTION = "the purple giraffe plays chess, call me on 13812345678"  # the bot falls back


# --- the dataset -----------------------------------------------------------------------------

def message(at, user: str, outcome: str, intent: str, language: str, text: str = None) -> MessageRecord:
    return MessageRecord(at=at, platform="testchat", chat_type="group", chat_id="insights-group", user_id=user,
                         language=language, intent=intent, confidence=0.9 if text is None else 0.3, addressed=True,
                         outcome=outcome, text=text, normalized=text)


def seed_dataset(database: str) -> None:
    """Today: four tickets answered, resolved and rated, and some group messages; a ticket
    in the previous period to compare with. Lily is the team lead, Tom is not."""
    now = utcnow()
    with session_scope(database) as session:
        agents = {agent.username: agent for agent in session.execute(select(Agent)).scalars()}
        team = session.execute(select(Team).where(Team.key == "general")).scalar_one()
        for index, score in enumerate(SCORES):
            created = now - timedelta(minutes=40 - index)
            session.add(Ticket(platform="testchat", user_id=f"insights_{index}", conversation_id=f"c{index}",
                               reason="customer_request", language="zh", status="resolved", category="complain",
                               assignee_id=agents["lily" if index % 2 else "tom"].id, team_id=team.id,
                               created_at=created, first_agent_reply_at=created + timedelta(seconds=60 * (index + 1)),
                               resolved_at=created + timedelta(minutes=10), csat_score=score,
                               csat_answered_at=created + timedelta(minutes=11), csat_state="done"))
        session.add(Ticket(platform="testchat", user_id="insights_old", conversation_id="c_old",
                           reason="fallback", language="en", status="resolved", team_id=team.id,
                           created_at=now - timedelta(days=40), first_agent_reply_at=now - timedelta(days=40),
                           resolved_at=now - timedelta(days=40), csat_score=3,
                           csat_answered_at=now - timedelta(days=40)))
        records = [message(now - timedelta(minutes=m), f"u{m}", "answered", "ask_points", "zh") for m in range(1, 6)]
        records += [message(now - timedelta(minutes=m), f"u{m}", "fallback", "nlu_fallback", "en",
                            "do you ship to the moon") for m in range(6, 8)]
        records += [message(now - timedelta(minutes=9), "u9", "ticket", "complain", "zh")]
        session.add_all(records)
        session.execute(update(Agent).where(Agent.username == "lily").values(team_lead=True))
        session.execute(update(Agent).where(Agent.username == "tom").values(team_lead=False))


@pytest.fixture(scope="module")
def servers(operator_servers):  # noqa: F811
    seed_dataset(operator_servers.env["DATABASE_URL"])
    status, body = post_event(operator_servers, private_message(QUESTION, f"hot_{uuid.uuid4().hex[:8]}"))
    assert status == 200, body
    return operator_servers


def computed(servers, section: str, viewer: str = None, team: str = None, **params) -> dict:
    """compute()'s answer for the page's default period (this month), as `viewer` sees it
    (their teams, or `team`): every team when nobody is named."""
    settings = get_settings()
    zone = settings.default_timezone
    period = parse_period({"period": "month", **params}, local_today(utcnow(), zone), zone)
    with session_scope(servers.env["DATABASE_URL"]) as session:
        scope = EVERY_TEAM
        if viewer:
            scope = scope_for(session, session.execute(select(Agent).where(Agent.username == viewer)).scalar_one(),
                              team)
        return compute(session, section, period, settings, scope=scope)


# --- reading the page -------------------------------------------------------------------------

def log_in(page, servers, console: str, username: str, language: str) -> None:
    page.goto(f"{servers.rasa_url}/{console}/login?lang={language}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(re.compile(rf"/{console}/(#\w+)?$"))


def shown_figures(page) -> dict:
    return dict(page.eval_on_selector_all(".card.figure", "cards => cards.map(c => [c.dataset.key, "
                                                          "c.querySelector('.value').textContent])"))


def shown_series(page) -> dict:
    """{series key: rows of the raw values behind the cells of the table under its chart}."""
    return dict(page.eval_on_selector_all(".block.series", """blocks => blocks.map(b => [b.dataset.key,
        [...b.querySelectorAll('table.series-table tbody tr:not(.empty)')].map(
            tr => [...tr.querySelectorAll('td')].map(td => td.dataset.value))])"""))


def shown_tables(page) -> dict:
    """{table key: rows of the raw values behind the cells (data-value)}."""
    return dict(page.eval_on_selector_all(".table-block", """blocks => blocks.map(b => [b.dataset.key,
        [...b.querySelectorAll('table.data-table tbody tr:not(.empty)')].map(
            tr => [...tr.querySelectorAll('td')].map(td => td.dataset.value))])"""))


def raw(value) -> str:
    return "" if value is None else str(value)


def check_section(page, result: dict, language: str) -> None:
    """The page shows exactly the section compute() gives: every figure written for its
    unit, a chart per series, every table's rows, and a CSV link per table."""
    assert shown_figures(page) == {f["key"]: value_text(f["value"], f["unit"], language) for f in result["figures"]}
    for series in result["series"]:
        chart = page.locator(f'.series[data-key="{series["key"]}"] svg.line-chart')
        expect(chart).to_have_count(1)
        points = [p for p in series["points"] if p["value"] is not None]
        assert page.locator(f'.series[data-key="{series["key"]}"] svg circle.point').count() == len(points)
    assert shown_tables(page) == {t["key"]: [[raw(cell) for cell in row] for row in t["rows"]]
                                  for t in result["tables"]}
    assert page.locator(".table-block a.csv").count() == len(result["tables"])
    assert page.locator(".block.series a.csv").count() == len(result["series"])


def check_translated(page) -> None:
    text = page.inner_text("body")
    content = page.content()
    assert "{{" not in content and "insights." not in text and "insights_ui." not in text, \
        sorted(set(re.findall(r"insights(?:_ui)?\.[\w.]+", text)))
    assert "undefined" not in text and "None" not in text


def check_csv_links(page, result: dict) -> None:
    """Each table's CSV link downloads the table's rows (in the same order), and each daily
    series' the rows of the table under its chart (its days beside the previous period's)."""
    tables, series = shown_tables(page), shown_series(page)
    for kind, found in (("table-block", tables), ("block.series", series)):
        for item in result["tables" if kind == "table-block" else "series"]:
            href = page.locator(f'.{kind}[data-key="{item["key"]}"] a.csv').get_attribute("href")
            reply = page.request.get(urljoin(page.url, href))
            assert reply.status == 200 and "text/csv" in reply.headers["content-type"], href
            rows = list(csv.reader(io.StringIO(reply.text().lstrip("\ufeff"))))
            assert rows[1:] == found[item["key"]], (kind, item["key"])


# --- operators ------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_operator_reads_every_section_in_both_languages(servers, language):
    with chromium_page(locale="zh-CN" if language == "zh" else "en-US") as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, servers, "operator", "olivia", language)
        page.click("#insights-link")
        expect(page).to_have_url(re.compile(r"/operator/insights$"))
        page.goto(f"{servers.rasa_url}/operator/insights?lang={language}")
        expect(page.locator("#period-kind")).to_have_value("month")  # this month unless asked otherwise
        for section in SECTIONS:
            page.click(f'#sections a[data-section="{section}"]')
            expect(page.locator("#sections a.active")).to_have_attribute("data-section", section)
            check_section(page, computed(servers, section), language)
            check_translated(page)
        assert not errors, errors


def test_the_seeded_tickets_are_what_the_people_section_shows(servers):
    result = computed(servers, "people")
    figures = {f["key"]: f for f in result["figures"]}
    assert figures["tickets_opened"]["value"] == len(SCORES)
    assert figures["csat_average"]["value"] == pytest.approx(sum(SCORES) / len(SCORES), abs=0.01)
    assert figures["first_response_median"]["value"] == 150  # 60, 120, 180, 240 seconds
    with chromium_page() as page:
        log_in(page, servers, "operator", "olivia", "en")
        page.goto(f"{servers.rasa_url}/operator/insights?section=people&lang=en")
        card = page.locator('.card.figure[data-key="first_response_median"]')
        expect(card.locator(".value")).to_have_text("2 min 30 s")
        expect(page.locator('.card.figure[data-key="tickets_opened"] .value')).to_have_text("4")
        distribution = page.locator('.table-block[data-key="csat_distribution"] svg.distribution-chart rect.bar')
        expect(distribution).to_have_count(5)
        agents = page.locator('.table-block[data-key="by_agent"] svg.bar-chart rect.bar')
        expect(agents).to_have_count(2)  # lily and tom had tickets; bars for the others would be 0
        check_csv_links(page, result)
        page.click('.series[data-key="tickets_opened"] details summary')
        expect(page.locator('.series[data-key="tickets_opened"] table.series-table')).to_be_visible()

        page.select_option("#period-team", "orders")  # an operator may look at any one team
        page.click("#period-show")
        expect(page.locator("#teams-shown")).to_have_attribute("data-teams", "orders")
        orders = computed(servers, "people", viewer="olivia", team="orders")
        assert orders["figures"][0]["value"] == 0  # the seeded tickets are the general team's
        check_section(page, orders, "en")
        check_csv_links(page, orders)


def test_a_hot_spot_opens_its_inbox_group_and_its_conversation(servers):
    """The top unanswered table links each question to its group in the Unanswered tab and
    its newest message to the conversation it was asked in."""
    key = normalize(QUESTION)
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, servers, "operator", "olivia", "en")
        hot_spots = f"{servers.rasa_url}/operator/insights?section=hot_spots&period=today&lang=en"
        page.goto(hot_spots)
        row = page.locator('.table-block[data-key="top_unanswered"] tbody tr').filter(
            has=page.locator(f'td[data-value="{key}"]'))
        expect(row.locator("a.open-sample_record")).to_have_text("Open the conversation")
        row.locator("a.open-sample_record").click()
        expect(page).to_have_url(re.compile(r"/operator/\?record=\d+#conversations$"))
        asked = page.locator("#transcript .line[data-who=customer]").first
        expect(asked).to_contain_text("the purple giraffe plays chess, call me on •••••••••••")
        expect(asked.locator(".nlu")).to_contain_text("nlu_fallback")
        expect(page.locator("#transcript .line[data-who=bot]").first).to_be_visible()

        page.goto(hot_spots)
        row.locator("a.open-text").click()
        expect(page).to_have_url(re.compile(r"inbox_status=open.*#unanswered$"))
        expect(page.locator(f"#inbox-list .item.selected[data-normalized='{key}']")).to_be_visible()
        expect(page.locator("#unanswered-detail h2")).to_contain_text("the purple giraffe plays chess")
        expect(page.locator("#inbox-samples .open-conversation")).to_have_count(1)
        assert not errors, errors


def test_switching_the_period(servers):
    today = local_today(utcnow(), get_settings().default_timezone)
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, servers, "operator", "olivia", "en")
        page.goto(f"{servers.rasa_url}/operator/insights?section=self_service&lang=en")
        expect(page.locator("#period-summary")).to_have_attribute("data-from", today.replace(day=1).isoformat())

        page.select_option("#period-kind", "today")  # shown at once
        expect(page).to_have_url(re.compile(r"period=today"))
        expect(page.locator("#period-summary")).to_have_attribute("data-from", today.isoformat())
        check_section(page, computed(servers, "self_service", period="today"), "en")
        expect(page.locator('[data-field="date"]')).to_be_hidden()

        page.select_option("#period-kind", "custom")  # asks for the range first
        expect(page.locator('[data-field="range"]').first).to_be_visible()
        start = (today - timedelta(days=60)).isoformat()
        page.fill("#period-from", start)
        page.fill("#period-to", today.isoformat())
        page.click("#period-show")
        expect(page.locator("#period-summary")).to_have_attribute("data-from", start)
        check_section(page, computed(servers, "self_service", period="custom", **{"from": start,
                                                                                   "to": today.isoformat()}), "en")
        json_link = page.locator("#json-link").get_attribute("href")
        assert page.request.get(urljoin(page.url, json_link)).json()["period"]["from"] == start

        page.goto(f"{servers.rasa_url}/operator/insights?period=custom&from={today}&to={date(2001, 1, 1)}&lang=zh")
        expect(page.locator("#period-error")).to_contain_text("结束日期不能早于开始日期")
        check_translated(page)
        assert not errors, errors


def test_the_insights_need_an_operator(servers):
    with chromium_page() as page:
        page.goto(f"{servers.rasa_url}/operator/insights")
        expect(page).to_have_url(re.compile(r"/operator/login$"))
        log_in(page, servers, "agent", "tom", "en")
        page.goto(f"{servers.rasa_url}/operator/insights")
        expect(page).to_have_url(re.compile(r"/operator/login$"))


# --- team leads -----------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_team_lead_reads_the_people_section_in_the_agent_console(servers, language):
    with chromium_page(locale="zh-CN" if language == "zh" else "en-US") as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, servers, "agent", "lily", language)
        expect(page.locator("#insights-link")).to_be_visible()
        page.click("#insights-link")
        expect(page).to_have_url(re.compile(r"/agent/insights$"))
        page.goto(f"{servers.rasa_url}/agent/insights?lang={language}")
        expect(page.locator("h1")).to_have_text("团队数据" if language == "zh" else "Team insights")
        expect(page.locator("#sections")).to_have_count(0)  # the people section only
        result = computed(servers, "people", viewer="lily")  # her teams: after-sales and general
        assert result["teams"] == ["after_sales", "general"]
        assert [row[0] for row in result["tables"][1]["rows"]] == ["after_sales", "general"]
        check_section(page, result, language)
        expect(page.locator("#teams-shown")).to_have_attribute("data-teams", "after_sales,general")
        check_translated(page)
        check_csv_links(page, result)
        assert "/agent/api/insights/people" in page.locator("#json-link").get_attribute("href")

        page.select_option("#period-team", "general")  # one of her teams
        page.click("#period-show")
        expect(page).to_have_url(re.compile(r"team=general"))
        narrowed = computed(servers, "people", viewer="lily", team="general")
        check_section(page, narrowed, language)
        check_csv_links(page, narrowed)
        assert "team=general" in page.locator("#json-link").get_attribute("href")
        reply = page.goto(f"{servers.rasa_url}/agent/insights?team=orders&lang={language}")  # Tom's, not hers
        assert reply.status == 403
        expect(page.locator("#team-error")).to_be_visible()
        check_translated(page)

        page.goto(f"{servers.rasa_url}/agent/insights?section=self_service&lang={language}")
        assert shown_tables(page).keys() == {t["key"] for t in result["tables"]}, "no other section"
        assert not errors, errors


def test_an_agent_who_is_no_team_lead_is_turned_away(servers):
    with chromium_page() as page:
        log_in(page, servers, "agent", "tom", "zh")
        expect(page.locator("#insights-link")).to_be_hidden()
        reply = page.goto(f"{servers.rasa_url}/agent/insights?lang=zh")
        assert reply.status == 403
        expect(page.locator("#forbidden")).to_contain_text("仅限组长")
        assert page.locator(".card.figure").count() == 0
        check_translated(page)
    with chromium_page() as page:
        page.goto(f"{servers.rasa_url}/agent/insights")
        expect(page).to_have_url(re.compile(r"/agent/login$"))


def test_an_operator_makes_an_agent_team_lead_in_the_teams_tab(servers):
    user = f"lead_{uuid.uuid4().hex[:6]}"
    from bot.handoff.agents import create_agent

    with session_scope(servers.env["DATABASE_URL"]) as session:
        create_agent(session, user, "New Lead", PASSWORD)
    with chromium_page() as page:
        log_in(page, servers, "operator", "olivia", "en")
        page.goto(f"{servers.rasa_url}/operator/?lang=en#teams")
        box = page.locator(f"#agents-table tr[data-agent={user}] .agent-team-lead")
        expect(box).not_to_be_checked()
        box.check()
        expect(page.locator("#agents-result")).to_have_text("Saved. New tickets are routed by it at once.")
        expect(page.locator(f"#agents-table tr[data-agent={user}] .agent-team-lead")).to_be_checked()
    with chromium_page() as page:
        log_in(page, servers, "agent", user, "en")
        page.click("#insights-link")
        expect(page.locator('.card.figure[data-key="tickets_opened"]')).to_be_visible()


def test_the_team_lead_role_through_the_api_validated_and_audited(servers):
    token = operator_token(servers)
    status, body = operator_api(servers, "/agents/tom", "PUT", {"team_lead": True}, token=token)
    assert status == 200 and body["team_lead"] is True
    for bad in ("yes", 1, None, [], {"a": 1}):
        status, body = operator_api(servers, "/agents/tom", "PUT", {"team_lead": bad}, token=token)
        assert status == 400 and body["field"] == "team_lead", bad
    status, body = operator_api(servers, "/agents/tom", "PUT", {"team_lead": False}, token=token)
    assert status == 200 and body["team_lead"] is False
    _, agents = operator_api(servers, "/agents", token=token)
    assert {agent["username"]: agent["team_lead"] for agent in agents}["lily"] is True
    _, entries = operator_api(servers, "/audit", token=token)
    last = next(entry for entry in entries if entry["action"] == "agent.skills" and entry["target"] == "tom")
    assert last["detail"]["before"]["team_lead"] is True and last["detail"]["after"]["team_lead"] is False


def test_the_command_line_makes_and_unmakes_team_leads(tmp_path):
    env = {**os.environ, "DATABASE_URL": seeded_database(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "agents", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    made = run("set-teams", "tom", "--team-lead")
    assert made.returncode == 0 and "team lead" in made.stdout, made.stderr
    assert "team lead" in next(line for line in run("list").stdout.splitlines() if line.startswith("tom "))
    unmade = run("set-teams", "tom", "--no-team-lead")
    assert unmade.returncode == 0 and "team lead" not in unmade.stdout
    assert run("set-teams", "olivia", "--team-lead").returncode == 1  # an operator takes no team

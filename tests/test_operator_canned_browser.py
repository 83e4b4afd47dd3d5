"""Canned replies in a real headless Chromium, from the operator who writes one to the
customer who receives it: an operator creates a reply in both languages in the Canned
replies tab (a wrong placeholder refused on the way), an agent picks it for a ticket in
the agent console, it fills the reply box for this customer, is sent and delivered; the
operator then deletes it. A reply for one team is offered on that team's tickets only.
The tab reads right in English and in Chinese."""
import re
import uuid

from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.e2e import operator_api, post_event, private_message
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)
from tests.test_operator_canned import ticket_for_alice
from tests.test_operator_teams_browser import log_in as operator_log_in

SAVED = "Saved. Agents get it with their next ticket."
ENGLISH = ("Parcel on its way", "Good news, {customer_name}: your parcel ships today.")
CHINESE = ("包裹已发出", "{customer_name}您好，您的包裹今天发出。")


def agent_log_in(page, servers, username: str) -> None:
    page.goto(f"{servers.rasa_url}/agent/login?lang=en")
    page.fill("#username", username)
    page.fill("#password", "demo-agent-pass")
    page.click("#login")
    expect(page.locator("h1")).to_have_text("Agent console")


def write_reply(page, key: str) -> None:
    """The new-reply form filled in both languages, the English text with a placeholder
    typed in and one inserted by clicking its hint."""
    page.fill("#canned-key", key)
    page.fill("#canned-title-en", ENGLISH[0])
    page.fill("#canned-text-en", "Good news, : your parcel ships today.")
    page.locator("#canned-text-en").evaluate("area => area.setSelectionRange(11, 11)")
    page.click("#canned-placeholders code[data-placeholder=customer_name]")
    expect(page.locator("#canned-text-en")).to_have_value(ENGLISH[1])
    page.fill("#canned-title-zh", CHINESE[0])
    page.fill("#canned-text-zh", "{order_number}您好")


def test_an_operators_new_reply_is_picked_by_an_agent_and_reaches_the_customer(operator_servers,  # noqa: F811
                                                                                 receiver):
    key = f"parcel_{uuid.uuid4().hex[:6]}"
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        operator_log_in(page, operator_servers, "en")
        page.goto(f"{operator_servers.rasa_url}/operator/?lang=en#canned")
        expect(page.locator("#tabs button.active")).to_have_text("Canned replies")
        expect(page.locator("#canned-table tr[data-canned=greeting]")).to_contain_text("问候")

        write_reply(page, key)
        page.click("#save-canned")
        expect(page.locator("#canned-result")).to_contain_text("unknown placeholder {order_number}")
        page.fill("#canned-text-zh", CHINESE[1])
        page.click("#save-canned")
        expect(page.locator("#canned-result")).to_have_text(SAVED)
        row = page.locator(f"#canned-table tr[data-canned={key}]")
        expect(row.locator("td[data-language=en]")).to_contain_text(ENGLISH[1])
        expect(row.locator("td[data-language=zh]")).to_contain_text(CHINESE[0])

        # an edit: the key stays, the title changes
        row.locator(".edit-canned").click()
        expect(page.locator("#canned-key")).to_be_disabled()
        expect(page.locator("#canned-text-zh")).to_have_value(CHINESE[1])
        page.fill("#canned-title-en", "Parcel shipped")
        page.click("#save-canned")
        expect(page.locator("#canned-result")).to_have_text(SAVED)
        expect(page.locator(f"#canned-table tr[data-canned={key}] td[data-language=en]")).to_contain_text(
            "Parcel shipped")
        assert not errors, errors

    customer = f"canned_{uuid.uuid4().hex[:6]}"
    post_event(operator_servers, private_message("I want to talk to a human", customer))
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        agent_log_in(page, operator_servers, "tom")
        page.click("#tabs button[data-view=open]")
        page.locator("#tickets .ticket", has_text=customer).click()
        expect(page.locator("#ticket-head")).to_contain_text("English")
        page.select_option("#canned", label="Parcel shipped")
        expect(page.locator("#reply-text")).to_have_value(f"Good news, {customer}: your parcel ships today.")
        page.click("#send-reply")
        expect(page.locator("#transcript .msg.agent")).to_contain_text(f"Good news, {customer}")
        assert not errors, errors
    receiver.wait_for(lambda got: any(m["text"] == f"Good news, {customer}: your parcel ships today."
                                      and m["destination"].get("user_id") == customer for m in got))

    with chromium_page() as page:
        operator_log_in(page, operator_servers, "en")
        page.goto(f"{operator_servers.rasa_url}/operator/?lang=en#canned")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator(f"#canned-table tr[data-canned={key}] .delete-canned").click()
        expect(page.locator("#canned-result")).to_have_text("Deleted.")
        expect(page.locator(f"#canned-table tr[data-canned={key}]")).to_have_count(0)
        page.click("#tabs >> text=Audit log")
        for action in ("created a canned reply", "edited a canned reply", "deleted a canned reply"):
            expect(page.locator("#audit-table")).to_contain_text(action)
    _, entries = operator_api(operator_servers, "/audit", token=operator_token(operator_servers))
    assert [e["action"] for e in entries if e["target"] == key] == ["canned.delete", "canned.edit", "canned.create"]


def test_the_canned_tab_in_chinese_and_in_english(operator_servers):  # noqa: F811
    for language, tab, header, hint, save, shared in (
            ("zh", "快捷回复", "标识", "顾客姓名", "保存快捷回复", "所有团队"),
            ("en", "Canned replies", "Key", "the customer's name", "Save canned reply", "Every team")):
        with chromium_page(locale="zh-CN" if language == "zh" else "en-US") as page:
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            operator_log_in(page, operator_servers, language)
            page.goto(f"{operator_servers.rasa_url}/operator/?lang={language}")
            page.click(f"#tabs >> text={tab}")
            expect(page.locator("#canned-table")).to_contain_text(header)
            expect(page.locator("#canned-table tr[data-canned=greeting]")).to_contain_text("Greeting")
            expect(page.locator("#canned-table tr[data-canned=greeting] td.team")).to_have_text(shared)
            expect(page.locator("#canned-team option:checked")).to_have_text(shared)
            expect(page.locator("#canned-placeholders")).to_contain_text(hint)
            expect(page.locator("#save-canned")).to_have_text(save)
            text = page.inner_text("main")
            assert "{{" not in page.content() and "undefined" not in text and "canned." not in text
            assert re.search(r"中文.*English|English.*中文", page.inner_text("#canned-editor"), re.S)
            assert not errors, errors


def canned_titles(page) -> list:
    return page.locator("#canned option").all_inner_texts()


def test_a_reply_for_one_team_is_offered_on_that_teams_tickets_only(operator_servers):  # noqa: F811
    """The operator gives a new reply to After-sales with the team select; an agent on an
    orders ticket is not offered it (the shared ones yes), on an after-sales ticket is."""
    key, title = f"refund_{uuid.uuid4().hex[:6]}", f"Refund steps {uuid.uuid4().hex[:4]}"
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        operator_log_in(page, operator_servers, "en")
        page.goto(f"{operator_servers.rasa_url}/operator/?lang=en#canned")
        expect(page.locator("#canned-team option:checked")).to_have_text("Every team")
        page.fill("#canned-key", key)
        page.select_option("#canned-team", "after_sales")
        page.fill("#canned-title-en", title)
        page.fill("#canned-text-en", "Hello {customer_name}, here is how a refund works.")
        page.fill("#canned-title-zh", "退款步骤")
        page.fill("#canned-text-zh", "{customer_name}您好，退款流程如下。")
        page.click("#save-canned")
        expect(page.locator("#canned-result")).to_have_text(SAVED)
        expect(page.locator(f"#canned-table tr[data-canned={key}] td.team")).to_have_text("After-sales")
        page.locator(f"#canned-table tr[data-canned={key}] .edit-canned").click()
        expect(page.locator("#canned-team")).to_have_value("after_sales")  # the editor shows its team
        assert not errors, errors

    orders = ticket_for_alice(operator_servers, "en", "change_order")
    after_sales = ticket_for_alice(operator_servers, "en", "complain")
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        agent_log_in(page, operator_servers, "tom")
        page.click("#tabs button[data-view=open]")
        page.click(f"#tickets .ticket[data-id='{orders}']")
        expect(page.locator("#ticket-head")).to_contain_text("Team: Orders")
        expect(page.locator("#canned")).to_contain_text("Greeting")  # shared: offered everywhere
        assert title not in canned_titles(page)
        page.click(f"#tickets .ticket[data-id='{after_sales}']")
        expect(page.locator("#ticket-head")).to_contain_text("Team: After-sales")
        expect(page.locator("#canned")).to_contain_text(title)
        page.select_option("#canned", label=title)
        expect(page.locator("#reply-text")).to_have_value("Hello Alice Chen, here is how a refund works.")
        assert not errors, errors
    operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=operator_token(operator_servers))

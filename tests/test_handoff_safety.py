"""No customer is stranded between bot and agents: hand-back order, transfers, and
responses the code still sends."""
import asyncio
from types import SimpleNamespace

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused
from rasa.shared.core.trackers import DialogueStateTracker

from bot.db import session_scope
from bot.db.models import Ticket
from bot.handoff import tickets as service
from bot.handoff.agents import create_agent, set_active
from bot.handoff.coordinator import HandBackFailed, resolve_and_hand_back
from bot.i18n.nlg import BilingualNLG
from bot.operator import responses
from bot.operator.yaml_files import ContentError, ContentFiles
from bot.settings import PROJECT_ROOT, get_settings
from tests.conftest import NOW
from tests.operator_content import copy_content


class BrokenTrackerStore(InMemoryTrackerStore):
    """Rasa's own in-memory store whose saves fail (a database that went away)."""

    async def save(self, tracker):
        raise ConnectionError("tracker store unreachable")


def rasa_agent(tracker_store):
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    return SimpleNamespace(nlg=BilingualNLG(domain=domain), lock_store=InMemoryLockStore(),
                           tracker_store=tracker_store(domain))


def open_paused_ticket(db_url, agent_store):
    with session_scope(db_url) as session:
        lily = create_agent(session, "lily", "Lily", "password-1")
        queued = service.open_ticket(session, platform="wechat", user_id="u1", conversation_id="wechat:private:u1",
                                     reason="customer_request", language="en", now=NOW)
        service.assign(session, queued.ticket, lily, NOW)
        ticket_id = queued.ticket.id

    store = agent_store.tracker_store
    paused = DialogueStateTracker.from_events("wechat:private:u1", [ConversationPaused()], slots=store.domain.slots)
    asyncio.run(InMemoryTrackerStore.save(store, paused))
    return ticket_id


def resolve(db_url, ticket_id, agent_store):
    async def run():
        with session_scope(db_url) as session:
            ticket = session.get(Ticket, ticket_id)
            lily = ticket.assignee
            await resolve_and_hand_back(session, ticket, lily, agent_store, get_settings())
    asyncio.run(run())


def test_a_failed_hand_back_leaves_the_ticket_open(db_url):
    broken = rasa_agent(BrokenTrackerStore)
    ticket_id = open_paused_ticket(db_url, broken)
    with pytest.raises(HandBackFailed):
        resolve(db_url, ticket_id, broken)
    with session_scope(db_url) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "open"  # the customer's messages keep reaching the agents
        assert [m.author for m in ticket.messages if m.author == "bot"] == []


def test_a_hand_back_resumes_the_conversation_and_resolves(db_url):
    working = rasa_agent(InMemoryTrackerStore)
    ticket_id = open_paused_ticket(db_url, working)
    resolve(db_url, ticket_id, working)
    tracker = asyncio.run(working.tracker_store.retrieve("wechat:private:u1"))
    assert not tracker.is_paused()
    with session_scope(db_url) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "resolved"
        assert any(m.author == "bot" and "back" in m.text.lower() for m in ticket.messages)


# --- transfers ----------------------------------------------------------------------------------

@pytest.fixture
def people(session):
    return {"lily": create_agent(session, "lily", "Lily", "password-1"),
            "tom": create_agent(session, "tom", "Tom", "password-2"),
            "olivia": create_agent(session, "olivia", "Olivia", "password-3", role="operator")}


def _ticket(session):
    return service.open_ticket(session, platform="wechat", user_id="u9", conversation_id="wechat:private:u9",
                               reason="customer_request", language="zh", now=NOW).ticket


def test_tickets_go_only_to_active_agents(session, people):
    ticket = _ticket(session)
    service.assign(session, ticket, people["lily"], NOW)
    with pytest.raises(service.TicketError) as to_operator:
        service.transfer(session, ticket, people["lily"], people["olivia"], NOW)
    assert to_operator.value.status == 400
    set_active(session, "tom", False)
    with pytest.raises(service.TicketError):
        service.transfer(session, ticket, people["lily"], people["tom"], NOW)
    assert ticket.assignee_id == people["lily"].id


def test_any_agent_takes_over_a_ticket_whose_owner_cannot_act(session, people):
    ticket = _ticket(session)
    service.assign(session, ticket, people["lily"], NOW)
    set_active(session, "lily", False)
    session.refresh(ticket)
    service.reply(session, ticket, people["tom"], "I'll take it from here", NOW)  # no 403 any more
    service.transfer(session, ticket, people["tom"], people["tom"], NOW)
    service.resolve(session, ticket, people["tom"], NOW)
    assert ticket.status == "resolved"


def test_a_ticket_owned_by_an_active_agent_stays_theirs(session, people):
    ticket = _ticket(session)
    service.assign(session, ticket, people["lily"], NOW)
    with pytest.raises(service.TicketError) as refused:
        service.resolve(session, ticket, people["tom"], NOW)
    assert refused.value.status == 403


# --- responses the code uses --------------------------------------------------------------------

@pytest.fixture
def content(tmp_path):
    return ContentFiles(copy_content(tmp_path / "content"))


@pytest.mark.parametrize("name, used_by", [
    ("utter_points_summary", "actions/fulfil.py"),
    ("utter_handoff_resolved", "bot/handoff/coordinator.py"),
    ("utter_ask_member_code", "form link_account_form"),
    ("utter_greet", "data/rules"),
    ("utter_default", "action_default_fallback"),
])
def test_responses_the_assistant_sends_cannot_be_deleted(content, name, used_by):
    with pytest.raises(ContentError) as refused:
        responses.delete_response(content, name)
    assert refused.value.status == 409 and used_by in refused.value.message


def test_an_unused_response_can_be_deleted(content):
    variations = [{"language": "en", "text": "Spare"}, {"language": "zh", "text": "备用"}]
    text, _, _ = responses.set_response(content, "utter_spare", variations, create=True)
    content.write({"domain.yml": text}, {"domain.yml": content.read("domain.yml")[1]})
    without, before = responses.delete_response(content, "utter_spare")
    assert "utter_spare" not in without and before[0]["text"] == "Spare"


def test_environment_placeholders_are_refused_in_operator_yaml(content):
    """Rasa fills ${NAME} from the server's environment when it reads YAML: an operator
    could otherwise pull a secret into the training data."""
    from bot.operator.validation import validate

    story = ("version: '3.1'\nstories:\n- story: leak\n  steps:\n  - intent: greet\n"
             "  - slot_was_set:\n    - language: ${COMMUNITY_WEBHOOK_SECRET}\n")
    report = validate(content.root, {"data/stories/leak.yml": story})
    assert not report.ok and "${" in report.errors[0]

"""The failed-action patch (bot/runtime/action_failures.py) against Rasa's own RemoteAction.run:
same result when the call succeeds, Rasa's handling of rejections kept, and an offer of a
person instead of silence when the call fails."""
import asyncio
import copy

import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import FollowupAction, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.runtime import action_failures

DOMAIN = Domain.from_yaml("""
version: "3.1"
slots:
  order_number: {type: text, mappings: [{type: custom}]}
responses:
  utter_hi: [{text: "hi {order_number}"}]
actions: [action_check_order]
""")


def tracker() -> DialogueStateTracker:
    state = DialogueStateTracker.from_events("c1", [UserUttered("hello", {"name": "greet"})], DOMAIN.slots)
    return state


def run(run_function, response):
    action = RemoteAction("action_check_order", EndpointConfig("http://localhost:1/webhook"))

    async def request(*_args, **_kwargs):
        if isinstance(response, Exception):
            raise response
        return copy.deepcopy(response)  # Rasa consumes the response it is given

    action.action_endpoint.request = request
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    output = CollectingOutputChannel()
    events = asyncio.run(run_function(action, output, nlg, tracker(), DOMAIN))
    return events, output.messages


def without_time(event):
    return {key: value for key, value in event.as_dict().items() if key != "timestamp"}


@pytest.fixture(scope="module", autouse=True)
def patched():
    action_failures.apply()


def test_a_successful_call_gives_exactly_what_rasa_gives():
    response = {"events": [{"event": "slot", "name": "order_number", "value": "A1"}],
                "responses": [{"response": "utter_hi", "order_number": "A1"}, {"text": "plain"}]}
    original = RemoteAction.run.rasa_run
    ours, our_messages = run(RemoteAction.run, response)
    theirs, their_messages = run(original, response)
    assert [without_time(e) for e in ours] == [without_time(e) for e in theirs]
    assert [m.get("text") for m in our_messages] == [m.get("text") for m in their_messages]
    assert any(isinstance(e, SlotSet) and e.value == "A1" for e in ours)


def test_a_failed_call_offers_a_person_instead_of_silence():
    events, _ = run(RemoteAction.run, RuntimeError("database is down"))
    assert events == [FollowupAction(action_failures.OFFER_AFTER_ERROR)]


def test_a_rejection_is_still_rasas_to_handle():
    async def rejecting(*_args, **_kwargs):
        raise ActionExecutionRejection("action_check_order", "not this slot")

    action = RemoteAction("action_check_order", EndpointConfig("http://localhost:1/webhook"))
    with pytest.raises(ActionExecutionRejection):
        asyncio.run(action_failures.offering_a_person(rejecting)(action, CollectingOutputChannel(), None,
                                                                  tracker(), DOMAIN))

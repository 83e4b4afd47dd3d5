"""The tracker state sent to the action server equals Rasa's `current_state()`.

bot.runtime.rasa_patches.action_tracker_state builds it without deep-copying an open form's
trigger message; compared with Rasa's own method after every event of generated
conversations (forms, new sessions, rewinds included), as values and as the JSON sent.
"""
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.runtime import fast_json
from bot.runtime.rasa_patches import action_tracker_state
from tests.test_dialogue_states import DOMAIN, conversation


def _form_with_a_rich_trigger():
    parse = {"intent": {"name": "check_points", "confidence": 0.91},
             "intent_ranking": [{"name": "check_points", "confidence": 0.91}, {"name": "faq", "confidence": 0.05}],
             "entities": [{"entity": "language", "value": "en", "start": 0, "end": 4, "extractor": "LanguageDetector"}],
             "response_selector": {"faq": {"ranking": [{"intent_response_key": "faq/shipping", "confidence": 0.3}]}},
             "text": "my points please", "metadata": {"platform": "telegram"}}
    return [UserUttered("my points please", parse["intent"], parse["entities"], parse_data=parse, input_channel="community"),
            ActionExecuted("link_account_form"), ActiveLoop("link_account_form"),
            SlotSet("requested_slot", "member_code")]


def test_the_state_equals_rasas_after_every_event():
    checked = with_a_form = 0
    for seed in range(30):
        tracker = DialogueStateTracker("c", DOMAIN.slots)
        events = conversation(seed) + (_form_with_a_rich_trigger() if seed % 3 == 0 else [])
        for event in events:
            tracker.update(event)
            ours, rasas = action_tracker_state(tracker), tracker.current_state(EventVerbosity.NONE)
            assert ours == rasas, seed
            assert fast_json.dumps(ours) == fast_json.dumps(rasas)
            checked += 1
            with_a_form += bool(tracker.active_loop)
    assert checked > 1000 and with_a_form > 30


def test_the_state_shares_nothing_a_caller_could_change_by_accident():
    tracker = DialogueStateTracker("c", DOMAIN.slots)
    for event in _form_with_a_rich_trigger():
        tracker.update(event)
    ours = action_tracker_state(tracker)
    assert ours["active_loop"]["name"] == "link_account_form"
    assert ours["active_loop"]["trigger_message"] == tracker.latest_message.parse_data
    ours["slots"]["requested_slot"] = "changed"
    ours["latest_message"]["text"] = "changed"
    again = action_tracker_state(tracker)
    assert again["slots"]["requested_slot"] == "member_code" and again["latest_message"]["text"] == "my points please"

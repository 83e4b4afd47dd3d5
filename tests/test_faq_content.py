"""FAQ topics and console-made intents in the content files (no servers): the demo topics,
every refusal naming its field, the files a change writes, disable/enable/delete round
trips, deleting an intent still in use, and the topic selector's output in exactly the
format Rasa's retrieval action reads, from the real trained model."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.i18n import detect_language
from bot.operator import custom_intents, faq, faq_changes
from bot.operator.faq import FaqError
from bot.operator.faq_api import examples_elsewhere
from bot.operator.validation import validate
from bot.operator.yaml_files import ContentFiles, parse
from tests.operator_content import copy_content

DEMO_TOPICS = {"opening_hours", "shipping", "return_policy", "size_guide", "membership_tiers", "store_locations",
               "live_stream", "invoices", "gift_wrapping", "contact"}
TOPIC = {"key": "clothes_recycling",
         "examples": {"en": ["do you take old clothes for recycling", "can i recycle my old jacket with you",
                             "is there a clothes recycling programme"],
                      "zh": ["旧衣服可以回收吗", "你们有旧衣回收吗", "怎么参加旧衣回收"]},
         "answers": {"en": {"text": "Bring clean used clothes of any brand to either store: each bag earns 50 points.",
                            "image": "https://example.com/recycling.png",
                            "buttons": [{"title": "Talk to a person", "payload": "/request_human"}]},
                     "zh": {"text": "任何品牌的干净旧衣都可以带到门店回收，每袋积50分。"}}}


@pytest.fixture
def files(tmp_path: Path) -> ContentFiles:
    return ContentFiles(copy_content(tmp_path / "content"))


def write(files: ContentFiles, change) -> None:
    report = validate(files.root, change.texts)
    assert report.ok, report.errors
    files.write(change.texts, change.versions)


def refusal(call, *args) -> FaqError:
    with pytest.raises(FaqError) as caught:
        call(*args)
    return caught.value


def test_the_demo_topics_have_enough_examples_and_an_answer_in_each_language(files):
    topics = {topic["key"]: topic for topic in faq.list_topics(files)}
    assert set(topics) == DEMO_TOPICS
    for topic in topics.values():
        assert topic["enabled"] and topic["more_needed"] == {"en": 0, "zh": 0}
        for language in ("en", "zh"):
            assert topic["counts"][language] >= 12, (topic["key"], language)
            assert all(detect_language(text) == language for text in topic["examples"][language])
            answer = topic["answers"][language]["text"]
            assert detect_language(answer) == language and "{" not in answer


def test_a_new_topic_writes_its_examples_and_answers_and_says_how_many_more_would_help(files):
    write(files, faq_changes.create(files, TOPIC))
    topic = faq.find_topic(files, "clothes_recycling")
    assert topic["counts"] == {"en": 3, "zh": 3} and topic["more_needed"] == {"en": 9, "zh": 9}
    assert topic["answers"]["en"] == TOPIC["answers"]["en"]
    assert topic["answers"]["zh"] == {"text": TOPIC["answers"]["zh"]["text"], "buttons": [], "image": None}
    domain = parse((files.root / "domain.yml").read_text(encoding="utf-8"))
    assert domain["responses"]["utter_faq/clothes_recycling"][0]["image"] == "https://example.com/recycling.png"
    assert "- intent: faq/clothes_recycling\n" in (files.root / "data/nlu/faq.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("change, field, words", [
    ({"key": "X y"}, "key", "lowercase"),
    ({"examples": {"en": ["one", "two"], "zh": ["一", "二", "三"]}}, "examples.en", "at least 3"),
    ({"examples": {"en": ["one", "two", "One"], "zh": ["一", "二", "三"]}}, "examples.en", "twice"),
    ({"examples": "a list"}, "examples", "per language"),
    ({"answers": {"en": {"text": "Hi {customer_name}!"}, "zh": {"text": "你好"}}}, "answers.en.text",
     "{customer_name}"),
    ({"answers": {"en": {"text": "ok"}}}, "answers.zh", "each language"),
    ({"answers": {"en": {"text": "ok", "image": "javascript:alert(1)"}, "zh": {"text": "好"}}}, "answers.en.image",
     "http"),
    ({"answers": {"en": {"text": "ok", "buttons": [{"title": "Go", "payload": "/no_such_intent"}]},
                  "zh": {"text": "好"}}}, "answers.en.buttons", "/no_such_intent"),
    ({"answers": {"en": {"text": "ok", "buttons": [{"title": "", "payload": "/greet"}]}, "zh": {"text": "好"}}},
     "answers.en.buttons", "title"),
])
def test_every_refusal_names_the_field(files, change, field, words):
    error = refusal(faq_changes.create, files, {**TOPIC, **change})
    assert error.field == field and words in error.message and error.status == 400


def test_an_example_of_another_intent_or_topic_is_refused_naming_it(files):
    error = refusal(examples_elsewhere, files, "faq/clothes_recycling",
                    {"en": ["I want to talk to a human"], "zh": []})
    assert error.field == "examples.en" and "the intent request_human" in error.message
    error = refusal(examples_elsewhere, files, "faq/clothes_recycling", {"en": [], "zh": ["你们几点开门"]})
    assert error.field == "examples.zh" and "the FAQ topic opening_hours" in error.message
    # Rasa's own validation, run on a copy before anything is written, refuses it as well
    clash = {**TOPIC, "examples": {**TOPIC["examples"], "en": ["i want to talk to a human", "a", "b"]}}
    assert not validate(files.root, faq_changes.create(files, clash).texts).ok


def test_an_existing_key_and_a_stale_version_are_conflicts(files):
    assert refusal(faq_changes.create, files, {**TOPIC, "key": "opening_hours"}).status == 409
    error = refusal(faq_changes.edit, files, "shipping", {**TOPIC, "version": "stale"})
    assert error.status == 409 and error.field == "version"


def test_disable_keeps_a_topic_out_of_training_and_enable_puts_it_back_unchanged(files):
    before = {name: (files.root / name).read_text(encoding="utf-8") for name in ("domain.yml", "data/nlu/faq.yml")}
    topic = faq.find_topic(files, "gift_wrapping")
    write(files, faq_changes.disable(files, "gift_wrapping", topic["version"]))
    assert "faq/gift_wrapping" not in (files.root / "data/nlu/faq.yml").read_text(encoding="utf-8")
    assert "utter_faq/gift_wrapping" not in (files.root / "domain.yml").read_text(encoding="utf-8")
    disabled = faq.find_topic(files, "gift_wrapping")
    assert not disabled["enabled"] and disabled["examples"] == topic["examples"]
    assert disabled["answers"] == topic["answers"]
    assert "gift_wrapping:" in (files.root / "faq_disabled.yml").read_text(encoding="utf-8")
    write(files, faq_changes.enable(files, "gift_wrapping", disabled["version"]))
    assert faq.find_topic(files, "gift_wrapping")["enabled"]
    assert (files.root / "domain.yml").read_text(encoding="utf-8").count("utter_faq/gift_wrapping") == 1
    after = parse((files.root / "data/nlu/faq.yml").read_text(encoding="utf-8"))
    assert [i["intent"] for i in after["nlu"]].count("faq/gift_wrapping") == 1
    assert set(parse(before["domain.yml"])["responses"]) == set(parse(
        (files.root / "domain.yml").read_text(encoding="utf-8"))["responses"])


def test_a_disabled_topic_can_be_edited_and_deleted(files):
    topic = faq.find_topic(files, "live_stream")
    write(files, faq_changes.disable(files, "live_stream", topic["version"]))
    topic = faq.find_topic(files, "live_stream")
    write(files, faq_changes.edit(files, "live_stream", {**TOPIC, "version": topic["version"]}))
    assert faq.find_topic(files, "live_stream")["counts"] == {"en": 3, "zh": 3}
    write(files, faq_changes.delete(files, "live_stream", faq.find_topic(files, "live_stream")["version"]))
    assert "live_stream" not in {t["key"] for t in faq.list_topics(files)}


def test_a_console_made_hand_off_intent_writes_domain_data_rule_and_category_and_goes_together(files):
    body = {"intent": "warranty_claim", "does": "handoff", "category": "order_inquiry",
            "examples": {"en": ["i want to claim the warranty", "warranty repair please", "is this under warranty"],
                         "zh": ["我要保修", "申请保修", "这个还在保修期吗"]}}
    write(files, custom_intents.create(files, body))
    assert custom_intents.find_made(files, "warranty_claim")["category"] == "order_inquiry"
    rules = (files.root / "data/rules/console_intents.yml").read_text(encoding="utf-8")
    assert "intent: warranty_claim" in rules and "action: action_open_service_ticket" in rules
    assert "warranty_claim" in (files.root / "domain.yml").read_text(encoding="utf-8")
    write(files, custom_intents.delete(files, "warranty_claim"))
    for name in ("domain.yml", "data/rules/console_intents.yml", "data/nlu/console_intents.yml", "console_intents.yml"):
        assert "warranty_claim" not in (files.root / name).read_text(encoding="utf-8"), name


def test_answer_and_linking_intents_write_their_response_and_rule(files):
    answer = {"intent": "loyalty_app", "does": "answer", "examples": TOPIC["examples"], "answers": TOPIC["answers"]}
    write(files, custom_intents.create(files, answer))
    domain = parse((files.root / "domain.yml").read_text(encoding="utf-8"))
    assert [v["text"] for v in domain["responses"]["utter_loyalty_app"]] == [TOPIC["answers"]["en"]["text"],
                                                                              TOPIC["answers"]["zh"]["text"]]
    linking = {"intent": "join_club", "does": "linking",
               "examples": {"en": ["let me join the club", "sign me up as a member", "join the membership club"],
                            "zh": ["我要入会", "帮我加入会员俱乐部", "怎么入会"]}}
    write(files, custom_intents.create(files, linking))
    rules = (files.root / "data/rules/console_intents.yml").read_text(encoding="utf-8")
    assert "action: utter_loyalty_app" in rules and "action: action_start_linking" in rules
    assert {m["intent"]: m["does"] for m in custom_intents.list_made(files)} == {"loyalty_app": "answer",
                                                                                "join_club": "linking"}


def test_an_answer_intent_needs_its_answer_and_a_hand_off_its_category(files):
    body = {"intent": "loyalty_app", "does": "answer", "examples": TOPIC["examples"]}
    assert refusal(custom_intents.create, files, body).field == "answers"
    assert refusal(custom_intents.create, files, {**body, "does": "handoff", "category": "x"}).field == "category"
    assert refusal(custom_intents.create, files, {**body, "intent": "greet"}).status == 409


def test_deleting_an_intent_in_use_is_refused_naming_each_use(files):
    error = refusal(custom_intents.delete, files, "check_points")
    assert error.status == 409 and error.field == "intent"
    assert "data/rules/loyalty.yml (rule 'points')" in error.message and "bot/channels/routing.py" in error.message
    assert "tests/test_stories.yml" in error.message
    assert refusal(custom_intents.delete, files, "no_such_intent").status == 404


def test_the_selector_writes_what_rasas_retrieval_action_reads(trained_model):
    """The component's parse output, from the real model, read by Rasa's own ActionRetrieveResponse."""
    from rasa.core.actions.action import ActionRetrieveResponse
    from rasa.core.agent import Agent
    from rasa.nlu import constants as rasa_constants
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.nlu import faq_selector

    assert (faq_selector.SELECTOR_PROPERTY, faq_selector.RETRIEVAL_INTENTS_KEY, faq_selector.PREDICTION_KEY,
            faq_selector.RANKING_KEY, faq_selector.RESPONSES_KEY, faq_selector.UTTER_ACTION_KEY) == (
        rasa_constants.RESPONSE_SELECTOR_PROPERTY_NAME, rasa_constants.RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
        rasa_constants.RESPONSE_SELECTOR_PREDICTION_KEY, rasa_constants.RESPONSE_SELECTOR_RANKING_KEY,
        rasa_constants.RESPONSE_SELECTOR_RESPONSES_KEY, rasa_constants.RESPONSE_SELECTOR_UTTER_ACTION_KEY)
    agent = Agent.load(str(trained_model))
    parsed = asyncio.run(agent.parse_message("what time does your shop close tonight"))
    assert parsed["intent"]["name"] == "faq"
    selected = parsed["response_selector"]["faq"]
    assert parsed["response_selector"]["all_retrieval_intents"] == ["faq"]
    assert selected["response"]["intent_response_key"] == "faq/opening_hours"
    assert selected["response"]["utter_action"] == "utter_faq/opening_hours"
    assert {v["condition"][0]["value"] for v in selected["response"]["responses"]} == {"en", "zh"}
    assert set(selected["ranking"][0]) == {"id", "confidence", "intent_response_key"}
    tracker = DialogueStateTracker.from_events("faq-format", [UserUttered(parsed["text"], parsed["intent"],
                                                                          parse_data=parsed)])
    assert ActionRetrieveResponse("utter_faq").get_full_retrieval_name(tracker) == "utter_faq/opening_hours"


def test_an_unsure_topic_falls_back_instead_of_guessing(trained_model):
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))
    for text in ("how do i cook rice", "纽约现在几点"):
        assert asyncio.run(agent.parse_message(text))["intent"]["name"] == "nlu_fallback", text

"""Telegram Updates as contract events (https://core.telegram.org/bots/api#update), with
Updates shaped like the Bot API's own objects (Update, Message, User, Chat, MessageEntity,
CallbackQuery) and entities counted in UTF-16 code units as Telegram counts them."""
import pytest

from bot.channels.private_reach import mark_open
from bot.db import session_scope
from bot.db.types import utcnow
from bot.platforms.telegram.api import BotIdentity
from bot.platforms.telegram.buttons import callback_data, pressed_payload
from bot.platforms.telegram.updates import translate
from bot.settings import Settings
from tests.fakes.telegram_bot_api import BOT_ID, BOT_USERNAME, TOKEN, FakeBotApi, TelegramSide

ME = BotIdentity(BOT_ID, BOT_USERNAME)
SETTINGS = Settings(default_language="zh", max_text_length=2000, telegram_bot_token=TOKEN)
GROUP = TelegramSide.group(-1001234567890, "Shop VIP customers")
ANN = TelegramSide.user(111, "Ann", "en", last_name="Lee", username="ann_lee")
WANG = TelegramSide.user(222, "芳", "zh-hans", last_name="王")


@pytest.fixture(scope="module")
def side():
    fake = FakeBotApi()
    yield TelegramSide(fake, "http://unused", "s")
    fake.close()


def read(update, db_url):
    return translate(update, ME, SETTINGS, db_url)


def test_a_private_message_is_a_private_chat_of_that_user(side, db_url):
    # the shape of https://core.telegram.org/bots/api#message with a private Chat
    update = {"update_id": 10000, "message": {
        "message_id": 1365, "date": 1441645532, "text": "how many points do I have?",
        "from": {"id": 1111111, "is_bot": False, "first_name": "Test", "last_name": "Test Lastname",
                 "username": "Test", "language_code": "en"},
        "chat": {"id": 1111111, "first_name": "Test", "last_name": "Test Lastname", "username": "Test",
                 "type": "private"}}}
    event = read(update, db_url).event
    assert (event.type, event.platform, event.chat.id, event.chat.type) == ("message", "telegram", "1111111", "private")
    assert (event.sender.id, event.sender.name, event.sender.is_bot) == ("1111111", "Test Test Lastname", False)
    assert (event.message_id, event.text) == ("1365", "how many points do I have?")
    assert event.reply_context == {"chat_id": "1111111", "message_id": 1365}


def test_group_addressing_by_mention_command_text_mention_and_reply(side, db_url):
    mention = read(side.message(GROUP, ANN, f"👋 @{BOT_USERNAME} any promotions?"), db_url).event
    assert mention.mentions_bot and mention.text == "👋 any promotions?"  # the emoji counts 2 UTF-16 units
    assert (mention.chat.type, mention.chat.title, mention.chat.id) == ("group", "Shop VIP customers", "-1001234567890")
    plain = read(side.message(GROUP, ANN, "nice weather today"), db_url).event
    assert not plain.mentions_bot and not plain.reply_to_bot
    other = read(side.message(GROUP, ANN, "hi @someone_else"), db_url).event
    assert not other.mentions_bot
    command = read(side.message(GROUP, WANG, f"/points@{BOT_USERNAME}"), db_url).event
    assert command.mentions_bot and command.text == "我的积分"  # language_code zh-hans: Chinese
    bare = read(side.message(GROUP, ANN, "/promotions"), db_url).event
    assert bare.mentions_bot and bare.text == "show me the promotions"
    assert read(side.message(GROUP, ANN, "/points@OtherShopBot"), db_url).ignored == "command_for_another_bot"
    text_mention = side.message(GROUP, ANN, "Shop Assistant where is my order")
    text_mention["message"]["entities"] = [{"type": "text_mention", "offset": 0, "length": 14,
                                            "user": {"id": BOT_ID, "is_bot": True, "first_name": "Shop Assistant"}}]
    event = read(text_mention, db_url).event
    assert event.mentions_bot and event.text == "where is my order"
    bot_message = {"message_id": 5, "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop Assistant",
                                             "username": BOT_USERNAME}, "chat": GROUP, "date": 1, "text": "Hi"}
    reply = read(side.message(GROUP, ANN, "and my orders?", reply_to_message=bot_message), db_url).event
    assert reply.reply_to_bot and not reply.mentions_bot


def test_commands_mean_what_customers_mean_in_their_language(side, db_url):
    no_language = TelegramSide.user(333, "Kim", language_code=None)
    assert read(side.private(ANN, "/orders A10023"), db_url).event.text == "show my orders A10023"
    assert read(side.private(WANG, "/human"), db_url).event.text == "转人工"
    assert read(side.private(WANG, "/link"), db_url).event.text == "绑定会员"
    assert read(side.private(no_language, "/points"), db_url).event.text == "我的积分"  # DEFAULT_LANGUAGE zh
    start = read(side.private(ANN, "/start"), db_url).event
    assert start.text == "hello" and start.continue_token is None
    token = read(side.private(ANN, "/start Qm9vbGVhbi1mYWxzZS0xMjM0"), db_url).event
    assert token.text == "hello" and token.continue_token == "Qm9vbGVhbi1mYWxzZS0xMjM0"
    assert read(side.private(ANN, "/start not a token!"), db_url).event.continue_token is None
    assert read(side.private(ANN, "/whatever please"), db_url).event.text == "whatever please"


def test_captions_are_read_other_kinds_are_ignored_with_a_reason(side, db_url):
    photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]
    captioned = side.message(GROUP, ANN, None, photo=photo, caption=f"@{BOT_USERNAME} is this on sale?",
                             caption_entities=[{"type": "mention", "offset": 0, "length": 14}])
    event = read(captioned, db_url).event
    assert event.mentions_bot and event.text == "is this on sale?"
    assert read(side.message(GROUP, ANN, None, photo=photo), db_url).ignored == "unsupported_message:photo"
    sticker = {"file_id": "CAAC", "file_unique_id": "AgAD", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}
    assert read(side.message(GROUP, ANN, None, sticker=sticker), db_url).ignored == "unsupported_message:sticker"


def test_edits_channel_posts_and_other_updates_are_ignored(side, db_url):
    original = side.message(GROUP, ANN, f"@{BOT_USERNAME} points?")
    assert read(side.edited(original, f"@{BOT_USERNAME} points??"), db_url).ignored == "edited_message"
    channel = {"update_id": 5, "channel_post": {"message_id": 1, "date": 1, "text": "news",
                                                "chat": {"id": -1009, "type": "channel", "title": "News"}}}
    assert read(channel, db_url).ignored == "unsupported_update:channel_post"
    assert read({"update_id": 6, "my_chat_member": {}}, db_url).ignored == "unsupported_update:my_chat_member"


def test_joins_welcome_people_not_bots(side, db_url):
    us = {"id": BOT_ID, "is_bot": True, "first_name": "Shop Assistant", "username": BOT_USERNAME}
    dora = TelegramSide.user(444, "Dora")
    joined = side.joined(GROUP, [dora, us, {"id": 555, "is_bot": True, "first_name": "Other bot"}])
    event = read(joined, db_url).event
    assert event.type == "member_joined" and [(p.id, p.name) for p in event.members] == [("444", "Dora")]
    assert event.message_id == str(joined["message"]["message_id"])
    assert read(side.joined(GROUP, [us]), db_url).ignored == "no_members_to_welcome"


def test_bots_are_marked_and_group_senders_carry_their_private_reach(side, db_url):
    robot = {"id": 666, "is_bot": True, "first_name": "Spam bot"}
    assert read(side.message(GROUP, robot, f"@{BOT_USERNAME} hi"), db_url).event.sender.is_bot
    assert read(side.message(GROUP, ANN, "hi"), db_url).event.sender.can_message_privately is False
    with session_scope(db_url) as session:
        mark_open(session, "telegram", "111", utcnow())
    assert read(side.message(GROUP, ANN, "hi"), db_url).event.sender.can_message_privately is True


def test_a_button_press_is_its_payload_said_by_whoever_pressed_it(side, db_url):
    sent = {"message": {"message_id": 77, "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop Assistant"},
                        "chat": GROUP, "date": 1, "text": "Shall I get a person?"}}
    translation = read(side.button_press(WANG, sent, callback_data("/affirm", TOKEN, db_url)), db_url)
    event = translation.event
    assert translation.callback_query_id and event.message_id == f"cb:{translation.callback_query_id}"
    assert (event.text, event.sender.id, event.chat.id, event.mentions_bot) == ("/affirm", "222", str(GROUP["id"]), True)
    long_payload = '/inform{"order_number": "A10023", "note": "' + "x" * 80 + '"}'
    data = callback_data(long_payload, TOKEN, db_url)
    assert data.startswith("bp:") and len(data.encode()) <= 64 and pressed_payload(data, TOKEN, db_url) == long_payload
    assert read(side.button_press(ANN, sent, data), db_url).event.text == long_payload
    unknown = read(side.button_press(ANN, sent, "bp:nosuchtoken"), db_url)
    assert unknown.ignored == "unknown_button" and unknown.callback_query_id
    # A modified client sends data the bot never issued: not read as the customer's words.
    for forged in ("/affirm", '/check_points{"member_code": "M100001"}', "/restart~AAAAAAAAAA",
                   callback_data("/affirm", "another bot's token", db_url)):
        assert read(side.button_press(ANN, sent, forged), db_url).ignored == "unknown_button"


def test_an_over_long_text_is_ignored_not_retried(side, db_url):
    assert read(side.private(ANN, "x" * 2001), db_url).ignored == "text_too_long"


def test_typed_intent_payloads_are_words_and_broken_text_is_ignored(side, db_url):
    mention = "@" + BOT_USERNAME
    update = side.message(GROUP, ANN, f"{mention} /check_points{{\"member_code\": \"M100001\"}}")
    event = read(update, db_url).event
    assert event.mentions_bot and not event.text.startswith("/")
    broken = side.private(ANN, "hello \ud800 there")
    assert read(broken, db_url).ignored == "invalid:unicode"


def test_posts_sent_as_a_channel_or_an_anonymous_admin_are_not_customers(side, db_url):
    forwarded = side.message(GROUP, TelegramSide.user(777000, "Telegram"), "New arrivals!", is_automatic_forward=True,
                             sender_chat={"id": -1009, "type": "channel", "title": "Shop news"})
    assert read(forwarded, db_url).ignored == "sent_as_a_chat"


def test_a_question_in_a_forum_topic_is_answered_in_that_topic(side, db_url):
    mention = "@" + BOT_USERNAME
    in_topic = side.message(GROUP, ANN, f"{mention} any promotions?", message_thread_id=7, is_topic_message=True)
    assert read(in_topic, db_url).event.reply_context["thread_id"] == 7
    assert "thread_id" not in read(side.message(GROUP, ANN, f"{mention} any promotions?"), db_url).event.reply_context

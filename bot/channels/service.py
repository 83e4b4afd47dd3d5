"""Handles one platform event end to end: checks, routing, Rasa, replies, outbox."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import welcome
from bot.channels.contract import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BadRequest,
    Event,
    Person,
    RetryLater,
    parse_event,
    verify_signature,
)
from bot.channels.groups import group_for_message, group_language, register_group
from bot.channels.idempotency import MessageKey, claim, finish, release, stored_response
from bot.channels.outbound import enqueue
from bot.channels.private_reach import give_back_continuation, keep_for_private, note_private_message
from bot.channels.routing import PRIVATE_RESPONSES, Route, is_shop_question, route_message, strip_address
from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff import csat
from bot.handoff.live import LIVE
from bot.db.models import Ticket
from bot.handoff.tickets import add_message, open_ticket_brief
from bot.i18n import t
from bot.insights.recording import message_row, outcome_of, record_messages, record_joins
from bot.runtime.parse_cache import ParseCache
from bot.settings import Settings


class CommunityOutput(CollectingOutputChannel):
    """Collects the bot's messages with their response names (for privacy routing)."""

    @classmethod
    def name(cls) -> str:
        return "community"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.messages.append({"recipient_id": recipient_id, **message})


def _ignored(reason: str) -> Dict[str, Any]:
    return {"status": "ignored", "reason": reason, "replies": []}


class CommunityService:
    """The channel's logic, independent of the web framework."""

    def __init__(self, settings: Settings, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                 db_url: Optional[str] = None) -> None:
        self.settings = settings
        self.on_new_message = on_new_message
        self.db_url = db_url
        self.parse_cache = ParseCache(settings.parse_cache_size)
        # At most this many messages are worked on at once; the others wait their turn in
        # arrival order. One process has one core's worth of Python: twenty interleaved
        # messages each took twenty times as long, and messages with action-server calls
        # went to the back of the queue at every call (p95 ~300 ms at 20 concurrent
        # customers); four at a time keep the core busy while one waits on the action
        # server, and finish each message sooner (p95 ~150-220 ms, more throughput too).
        self._working = asyncio.Semaphore(max(settings.max_concurrent_messages, 1))
        self.in_flight = 0  # messages received and not yet answered (waiting or worked on)

    async def handle_request(self, body: bytes, headers: Mapping[str, str], agent: Any) -> Dict[str, Any]:
        """One signed webhook request: checked (size, signature and its timestamp, shape)
        before anything is stored, so a bad request changes nothing."""
        settings = self.settings
        if len(body) > settings.max_body_bytes:
            raise BadRequest(413, f"body is larger than {settings.max_body_bytes} bytes")
        verify_signature(body, headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER), settings.webhook_secret,
                         max_skew_seconds=settings.webhook_max_skew_seconds,
                         accept_legacy=settings.webhook_legacy_signatures)
        event = parse_event(body, settings.max_text_length, require_event_id=not settings.webhook_legacy_signatures)
        if event.platform in settings.native_platforms:
            # Its own adapter speaks for it, checked with its own secret; an adapter holding
            # only the community secret must not speak as a Telegram or WeCom user.
            raise BadRequest(400, f"platform {event.platform!r} is served by its built-in adapter on this "
                                  f"assistant (/webhooks/{event.platform}/...), not by the community webhook",
                             "platform")
        return await self.handle_event(event, agent)

    async def handle_event(self, event: Event, agent: Any) -> Dict[str, Any]:
        self.in_flight += 1
        try:
            async with self._working:
                return await self._handle_event(event, agent)
        finally:
            self.in_flight -= 1

    async def _handle_event(self, event: Event, agent: Any) -> Dict[str, Any]:
        if event.type == "member_joined":
            return self._welcome(event)
        if event.sender.is_bot or event.sender.id in self.settings.bot_user_ids:
            return _ignored("from_a_bot")
        in_group = event.chat.type == "group"
        text, prefixed = strip_address(event.text, self.settings.group_prefixes) if in_group \
            else (event.text.strip(), False)
        addressed = not in_group or event.mentions_bot or event.reply_to_bot or prefixed
        # One transaction before the bot: the group, the message id, an open ticket.
        with session_scope(self.db_url) as session:
            group = group_for_message(session, event.platform, event.chat.id, event.chat.title) if in_group else None
            language = group_language(group, self.settings) if group else None
            answer_questions = bool(group and group.answer_questions)
            key = MessageKey(event.platform, event.chat.id, event.message_id)
            claimed = claim(session, key, utcnow(), timedelta(seconds=self.settings.message_lease_seconds))
            if claimed.in_progress:
                raise RetryLater(claimed.retry_after)
            if not claimed.is_new:
                return {**(claimed.stored_response or {"replies": []}), "status": "duplicate"}
            if not in_group:
                text = note_private_message(session, event.platform, event.sender.id, text, event.continue_token,
                                            utcnow())
            if addressed and self._hand_to_agent(session, event, text):
                result = {"status": "handed_off", "replies": []}
                finish(session, key, result, claimed.since)
                self._record(session, event, text, addressed, "agent")
                return result
            survey = None if in_group else csat.pending(session, event.platform, event.sender.id, text, utcnow(),
                                                         self.settings)
        try:
            answered = await self._answer_survey(survey, event, agent, text, key, claimed.since) if survey else None
            if answered is not None:
                return answered
            result = await self._converse(event, agent, text, addressed, language, answer_questions)
        except BaseException:
            with session_scope(self.db_url) as session:  # let a retry answer it
                release(session, key, claimed.since)
                if event.continue_token and not in_group:  # with the request it continued
                    give_back_continuation(session, event.platform, event.sender.id, event.continue_token)
            raise
        # One transaction after: remember the answer, queue it for delivery.
        with session_scope(self.db_url) as session:
            insight = result.pop("_insight", {})
            if result["status"] == "processed" and self._agent_took_over(session, event, result.pop("_arrived")):
                result = {"status": "handed_off", "replies": []}  # a person took over meanwhile: stay silent
                insight = {**insight, "outcome": "agent"}
            result.pop("_arrived", None)
            if not finish(session, key, result, claimed.since):
                # another attempt took the message over (we were presumed dead): its answer stands
                stored = stored_response(session, key)
                return {**(stored or {"replies": []}), "status": "duplicate"}
            enqueue(session, event.platform, [outbound(reply, event) for reply in result["replies"]], self.settings)
            self._record(session, event, text, addressed, **insight)
        return result

    async def _answer_survey(self, survey: csat.Survey, event: Event, agent: Any, text: str, key: MessageKey,
                             since) -> Optional[Dict[str, Any]]:
        """A reply to the satisfaction survey (bot/handoff/csat.py) is answered here, stored and
        queued like any answer; None lets the message go on to the bot (a new question)."""
        parse_data = await self.parse_cache.parse(agent, text) if csat.needs_parse(survey, text) else None
        with session_scope(self.db_url) as session:
            replies = csat.answer(session, survey, text, utcnow(), parse_data)
            if replies is None:
                return None
            result = {"status": "processed", "replies": replies}
            if not finish(session, key, result, since):  # another attempt answered it: its answer stands
                session.rollback()
                return {**(stored_response(session, key) or {"replies": []}), "status": "duplicate"}
            enqueue(session, event.platform, [outbound(reply, event) for reply in replies], self.settings)
            self._record(session, event, text, True, "survey", parse_data=parse_data)
        return result

    async def _converse(self, event: Event, agent: Any, text: str, addressed: bool,
                        language: Optional[str], answer_questions: bool) -> Dict[str, Any]:
        if not addressed and not answer_questions:
            return {**_ignored("not_addressed"), "_insight": {"outcome": "ignored"}}
        parse_data = await self.parse_cache.parse(agent, text)
        if not addressed and not is_shop_question(parse_data):
            return {**_ignored("not_addressed"), "_insight": {"outcome": "ignored", "parse_data": parse_data}}
        arrived = utcnow()
        route = route_message(event, parse_data)
        if route.in_private and route.from_group and not event.sender.can_message_privately:
            # personal, but the platform cannot message them privately yet: not answered here
            return {"status": "processed", "conversation_id": route.conversation_id, "_arrived": arrived,
                    "replies": [self._continue_privately(event, text, language)],
                    "_insight": {"outcome": "private_pending", "parse_data": parse_data}}
        output = CommunityOutput()
        await self.on_new_message(UserMessage(
            text, output, route.conversation_id, input_channel="community",
            message_id=event.message_id, metadata=route.metadata(event, language), parse_data=parse_data))
        replies = self._replies(output.messages, event, route, language, text)
        responses = [message.get("utter_action") for message in output.messages]
        intent = (parse_data.get("intent") or {}).get("name")
        return {"status": "processed", "conversation_id": route.conversation_id, "replies": replies,
                "_arrived": arrived, "_insight": {"outcome": outcome_of(responses, intent), "parse_data": parse_data,
                                                  "responses": responses, "conversation_id": route.conversation_id}}

    def _record(self, session, event: Event, text: str, addressed: bool, outcome: str = "ignored",
                **details: Any) -> None:
        """The message and what became of it, for the insights area (bot/insights/recording.py)."""
        in_group = event.chat.type == "group"
        record_messages(session, [message_row(
            at=utcnow(), platform=event.platform, chat_type=event.chat.type, chat_id=event.chat.id if in_group else None,
            user_id=event.sender.id, text=text, addressed=addressed, outcome=outcome, **details)])

    def _continue_privately(self, event: Event, text: str, language: Optional[str]) -> Dict[str, Any]:
        """The group notice for someone the bot cannot message privately yet: their request
        waits under a token, which the platform adapter turns into a link to the private chat."""
        with session_scope(self.db_url) as session:
            token = keep_for_private(session, event.platform, event.sender.id, text, utcnow())
        return {"destination": {"type": "group", "chat_id": event.chat.id},
                "mention": {"id": event.sender.id, "name": event.sender.name},
                "text": t("group.continue_privately", language or self.settings.group_default_language),
                "buttons": [], "continue_privately": {"token": token}}

    def _hand_to_agent(self, session, event: Event, text: str) -> bool:
        """While a ticket is open, the customer's messages go to the agents, not the bot."""
        brief = open_ticket_brief(session, event.platform, event.sender.id)
        if brief is None:
            return False
        add_message(session, session.get(Ticket, brief.id), "customer", text, utcnow())
        LIVE.publish({"type": "message", "ticket_id": brief.id})
        return True

    def _agent_took_over(self, session, event: Event, arrived) -> bool:
        """Checked again just before any bot reply leaves: was a ticket opened meanwhile?"""
        brief = open_ticket_brief(session, event.platform, event.sender.id)
        if brief is not None:
            LIVE.publish({"type": "ticket", "ticket_id": brief.id})
        return brief is not None and brief.created_at < arrived

    def _replies(self, messages: List[Dict[str, Any]], event: Event, route: Route,
                 language: Optional[str], text: str) -> List[Dict[str, Any]]:
        sender = {"id": event.sender.id, "name": event.sender.name}
        group = {"type": "group", "chat_id": event.chat.id}
        private = {"type": "private", "user_id": event.sender.id}
        replies, went_private = [], False
        for message in messages:
            is_private = route.in_private or message.get("utter_action") in PRIVATE_RESPONSES
            reply = {"destination": private if is_private else group, "text": message.get("text") or "",
                     "buttons": message.get("buttons") or []}
            if message.get("image"):
                reply["image"] = message["image"]
            if not is_private:
                reply["mention"] = sender
            went_private = went_private or is_private
            replies.append(reply)
        if route.from_group and went_private and not event.sender.can_message_privately:
            # e.g. a member's own offers: the whole request is answered in private once they open it
            shown = [reply for reply in replies if reply["destination"]["type"] == "group"]
            return [self._continue_privately(event, text, language), *shown]
        if route.from_group and went_private:
            notice = t("group.sent_privately", language or self.settings.group_default_language)
            replies.insert(0, {"destination": group, "mention": sender, "text": notice, "buttons": []})
        return replies

    def _welcome(self, event: Event) -> Dict[str, Any]:
        """Claim, welcome and answer in one transaction: a join is handled whole or not at all."""
        now = utcnow()
        with session_scope(self.db_url) as session:
            key = MessageKey.of_join(event.platform, event.chat.id, event.message_id) if event.message_id else None
            if key:
                claimed = claim(session, key, now, timedelta(seconds=self.settings.message_lease_seconds))
                if not claimed.is_new:
                    return {**(claimed.stored_response or {"replies": []}), "status": "duplicate"}
            group = register_group(session, event.platform, event.chat.id, event.chat.title)
            joiners = welcome.on_join(session, group, event.members, now, self.settings, event.message_id)
            record_joins(session, event.platform, event.chat.id, [member.id for member in event.members], now)
            if joiners:
                reply = welcome_reply(group, joiners, self.settings)
                enqueue(session, event.platform, [outbound(reply, event)], self.settings)
                result = {"status": "processed", "replies": [reply]}
            else:
                result = {"status": "batched", "replies": []}
            if key:
                finish(session, key, result, claimed.since)
            return result

    async def flush_welcomes(self) -> None:
        """Posts the batched welcomes whose interval has passed (runs on every tick)."""
        with session_scope(self.db_url) as session:
            now = utcnow()
            for group in welcome.groups_due(session, now, self.settings):
                joiners, last_join = welcome.take_pending(session, group, now)
                if joiners:
                    reply = welcome_reply(group, joiners, self.settings)
                    enqueue(session, group.platform, [{**reply, "platform": group.platform, "in_reply_to": last_join}],
                            self.settings)


def outbound(reply: Dict[str, Any], event: Event) -> Dict[str, Any]:
    """A reply as the outbox keeps it: with its platform, the message (or join) it answers,
    and what the platform's sender needs for it (`reply_context`, never shown to anyone)."""
    payload = {**reply, "platform": event.platform, "in_reply_to": event.message_id}
    if event.reply_context:
        payload["context"] = event.reply_context
    return payload


def welcome_reply(group, joiners: List[Person], settings: Settings) -> Dict[str, Any]:
    """The welcome, with each joiner's id so the adapter can post real mentions."""
    return {"destination": {"type": "group", "chat_id": group.chat_id},
            "text": welcome.welcome_text(group, [person.name for person in joiners], settings), "buttons": [],
            "mentions": [{"id": person.id, "name": person.name} for person in joiners]}


_SHARED: Dict[str, CommunityService] = {}


def shared_service(settings: Settings, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> CommunityService:
    """The one service of this Rasa server, whichever channel brings the event (the
    community webhook, Telegram, WeCom): one queue of messages worked on, one parse cache."""
    service = _SHARED.get(settings.database_url)
    if service is None:
        service = _SHARED[settings.database_url] = CommunityService(settings, on_new_message)
    return service

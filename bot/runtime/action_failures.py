"""When an action cannot do its part, the customer hears it and is offered a person.

Rasa 3.6 logs a failed custom action (action server down, an exception in the action, a
database that is unreachable, a timeout) and carries on as if it had returned nothing:
the customer who asked for their points gets no answer at all. Here a failed call
returns a FollowupAction to `utter_offer_human_after_error` instead ("sorry, something went
wrong on our side; shall I get a person?", with yes/no buttons), and the rules in
data/rules/fallback.yml open a ticket on yes. Rasa's own handling is unchanged for
everything else: a successful call returns exactly what Rasa's code returned, and a
rejection (a form's validation saying "not this slot", HTTP 400) is still raised for
Rasa to handle (tests/test_action_failures.py).
"""
from __future__ import annotations

import logging

OFFER_AFTER_ERROR = "utter_offer_human_after_error"
logger = logging.getLogger(__name__)


def offering_a_person(run):
    """RemoteAction.run that offers a person where `run` fails (rejections excepted)."""
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.core.events import FollowupAction

    async def run_or_offer_a_person(self, output_channel, nlg, tracker, domain):
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception:
            logger.exception("custom action %r failed in conversation %s; offering a person",
                             self.name(), tracker.sender_id)
            return [FollowupAction(OFFER_AFTER_ERROR)]

    run_or_offer_a_person.offers_a_person = True
    run_or_offer_a_person.rasa_run = run  # for the test that compares both
    return run_or_offer_a_person


def apply() -> None:
    from rasa.core.actions.action import RemoteAction

    if not getattr(RemoteAction.run, "offers_a_person", False):
        RemoteAction.run = offering_a_person(RemoteAction.run)

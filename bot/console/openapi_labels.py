"""The ticket-label part of the agent API's OpenAPI document (bot/console/labels_api.py,
rules in bot/handoff/labels.py); bot/console/openapi.py merges it in."""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi_parts import array, changing, error, json_body, obj, ok, operation, path_id, ref
from bot.handoff.labels import LABEL_PATTERN, MAX_LABEL_LENGTH, MAX_LABELS_PER_TICKET

LABEL_TEXT = (f"1-{MAX_LABEL_LENGTH} characters once trimmed: ASCII letters, digits, Chinese characters, single "
              "spaces between words and - _ : /; full-width forms are folded. Kept as first spelled; \"vip\" on a "
              "ticket with \"VIP\" is the same label")
LABEL = {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_LENGTH, "pattern": f"^{LABEL_PATTERN.pattern}$",
         "example": "wrong size"}
LABEL_CHANGE = obj({"label": {"type": "string", "minLength": 1, "example": "wrong size", "description": LABEL_TEXT}})
LABEL_PARAM = [{"name": "label", "in": "path", "required": True,
                "description": "the label, URL-encoded, a slash as %2F (any spelling: compared without case)",
                "schema": {"type": "string", "minLength": 1, "example": "wrong size"}}]
TICKET_LABELS = obj({"labels": array(LABEL, description=f"the ticket's labels after the call, in the order they were "
                                                         f"added (at most {MAX_LABELS_PER_TICKET})"),
                     "changed": {"type": "boolean", "description": "false: the ticket already had the label "
                                                                   "(adding) or did not have it (removing)"}})
LABEL_IN_USE = obj({"label": LABEL, "tickets": {"type": "integer", "minimum": 1,
                                                "description": "how many tickets have it"}})
TICKET_ID = [path_id("ticket_id", "the ticket's id")]

# GET /agent/api/tickets takes this besides `view`
LABEL_FILTER = {"name": "label", "in": "query", "description": "only tickets with this label (any spelling); a text "
                                                               "that could not be a label is a 400",
                "schema": {"type": "string"}}
# a property of every ticket summary
SUMMARY_LABELS = array(LABEL, description="the ticket's labels (for reports), in the order they were added")

SCHEMAS: Dict[str, Any] = {"TicketLabels": TICKET_LABELS, "LabelInUse": LABEL_IN_USE}

PATHS: Dict[str, Any] = {
    "/agent/api/tickets/{ticket_id}/labels": {"post": changing(
        "Label the ticket (any agent, open or resolved ticket): free text for reports. Written to the ticket as "
        "an event line and audited as ticket.label_add",
        {200: ok("the ticket's labels", ref("TicketLabels")),
         409: error(f"the ticket already has {MAX_LABELS_PER_TICKET} labels")},
        errors=(400, 404), params=TICKET_ID, body=json_body(LABEL_CHANGE))},
    "/agent/api/tickets/{ticket_id}/labels/{label}": {"delete": changing(
        "Remove a label from the ticket (any agent). Written to the ticket as an event line and audited as "
        "ticket.label_remove",
        {200: ok("the ticket's labels", ref("TicketLabels"))}, errors=(400, 404), params=TICKET_ID + LABEL_PARAM)},
    "/agent/api/labels": {"get": operation(
        "The labels on tickets with how many tickets have each, most used first (for autocomplete and the "
        "queue's filter; \"VIP\" and \"vip\" are listed once, as most tickets spell it)",
        {200: ok("labels in use", array(ref("LabelInUse")))})},
}

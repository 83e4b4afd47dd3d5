"""A restart of the assistant in the middle of conversations resumes each one exactly:
the linking form at every step, the customer's language, the fallback ladder."""
import pytest

from tests.conftest import TEST_SECRET
from tests.e2e import balance_of, post_event, private_message, seeded_database


@pytest.fixture(scope="module")
def assistant(trained_model, tmp_path_factory):
    """The assistant on its own database, restartable."""
    from bot.runtime.servers import BotServers, free_port

    root = tmp_path_factory.mktemp("restart")
    database = seeded_database(root)
    env = {"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "DEFAULT_LANGUAGE": "zh",
           "BUSINESS_HOURS": "", "DEMO_ENABLED": "true"}
    holder = {}

    def start():
        holder["servers"] = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(),
                                       log_dir=root / "logs", env=env).start()
        return holder["servers"]

    def restart():
        holder["servers"].stop()
        return start()

    start()
    yield holder, restart, database
    holder["servers"].stop()


def said(servers, text, user):
    status, body = post_event(servers, private_message(text, user))
    assert status == 200, body
    return " ".join(reply["text"] for reply in body["replies"])


def test_the_linking_form_continues_in_english_across_a_restart_at_every_step(assistant):
    holder, restart, database = assistant
    asked = said(holder["servers"], "how many points do I have?", "rs_sophie")
    assert "member code" in asked.lower(), asked
    servers = restart()
    digits = said(servers, "M100010", "rs_sophie")
    assert "digits" in digits.lower() and "member code" not in digits.lower(), digits  # the form went on, in English
    servers = restart()
    points = said(servers, "1111", "rs_sophie")
    assert balance_of(database, "M100010") in points and "points" in points.lower(), points


def test_the_fallback_ladder_counts_across_a_restart(assistant):
    holder, restart, _ = assistant
    first = said(holder["servers"], "the purple elephant sings opera on tuesdays", "rs_amy")
    servers = restart()
    second = said(servers, "my cactus tells me jokes about quantum physics", "rs_amy")
    assert first != second and ("person" in second.lower() or "human" in second.lower()), (first, second)

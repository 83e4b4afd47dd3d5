"""Linking a chat user to a member, with a limit on wrong answers."""
from datetime import timedelta

from bot.loyalty.linking import LINKED, LOCKED, WRONG, LinkPolicy, attempt_link, lock_status
from bot.loyalty.members import find_linked_member
from tests.conftest import NOW

POLICY = LinkPolicy(max_attempts=3, lock_minutes=30)


def test_right_code_and_phone_digits_link_the_chat_user(seeded_session):
    result = attempt_link(seeded_session, "wechat", "new_user", "m100004", "1357", NOW, POLICY)
    assert result.outcome == LINKED and result.member.code == "M100004"
    assert find_linked_member(seeded_session, "wechat", "new_user").code == "M100004"


def test_wrong_answers_count_down_then_lock(seeded_session):
    outcomes = [attempt_link(seeded_session, "wechat", "u", "M100004", "0000", NOW, POLICY)
                for _ in range(3)]
    assert [(r.outcome, r.attempts_left) for r in outcomes[:2]] == [(WRONG, 2), (WRONG, 1)]
    assert outcomes[2].outcome == LOCKED
    assert outcomes[2].locked_until == NOW + timedelta(minutes=30)
    # Even the right answer is refused while locked, and nothing gets linked.
    locked = attempt_link(seeded_session, "wechat", "u", "M100004", "1357", NOW, POLICY)
    assert locked.outcome == LOCKED
    assert find_linked_member(seeded_session, "wechat", "u") is None


def test_lock_ends_after_the_lock_period(seeded_session):
    for _ in range(3):
        attempt_link(seeded_session, "wechat", "u", "M100004", "0000", NOW, POLICY)
    later = NOW + timedelta(minutes=31)
    assert lock_status(seeded_session, "wechat", "u", later, POLICY).outcome != LOCKED
    assert attempt_link(seeded_session, "wechat", "u", "M100004", "1357", later, POLICY).outcome == LINKED


def test_unknown_member_code_counts_as_a_wrong_answer(seeded_session):
    result = attempt_link(seeded_session, "wechat", "u", "M999999", "1357", NOW, POLICY)
    assert result.outcome == WRONG and result.attempts_left == 2


def test_limit_is_per_chat_user(seeded_session):
    for _ in range(3):
        attempt_link(seeded_session, "wechat", "mallory", "M100004", "0000", NOW, POLICY)
    other = attempt_link(seeded_session, "wechat", "someone_else", "M100004", "1357", NOW, POLICY)
    assert other.outcome == LINKED

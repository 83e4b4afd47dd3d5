"""bot/runtime/rasa_entry.py runs Rasa's command line without two costs; these tests prove
that neither changes a result: skops trusts exactly the same types when imported before Rasa,
and a training without Rasa's cache hook makes a model that answers exactly like one made by
Rasa's own `rasa train --force`, on our pipeline (config.yml) and a small project of its own."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.runtime.servers import PROJECT_ROOT

TRUSTED_TYPES = """
import json, sys
if sys.argv[1] == "after-rasa":
    import rasa.core.agent, rasa.core.run, rasa.nlu.classifiers.logistic_regression_classifier, tensorflow  # noqa
import skops.io._trusted_types as trusted
print(json.dumps({name: sorted(map(str, value)) for name, value in vars(trusted).items()
                  if name.isupper() and isinstance(value, list)}))
"""

DOMAIN = """version: "3.1"
intents: [greet, goodbye, complain, out_of_scope, faq]
responses:
  utter_greet: [{text: "Hello!"}]
  utter_goodbye: [{text: "Bye!"}]
  utter_faq/hours: [{text: "We open at 10."}]
  utter_faq/shipping: [{text: "Parcels leave in two days."}]
  utter_complain: [{text: "Sorry, a person will look at it."}]
session_config: {session_expiration_time: 60, carry_over_slots_to_new_session: true}
"""
NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - 你好
    - 早上好
    - 嗨
- intent: goodbye
  examples: |
    - bye
    - see you later
    - good night
    - 再见
    - 拜拜
    - 回头见
- intent: complain
  examples: |
    - the parcel arrived broken
    - my order is missing an item
    - the shoes are the wrong size
    - 收到的东西坏了
    - 少发了一件
    - 尺码发错了
- intent: out_of_scope
  examples: |
    - what's the weather tomorrow
    - tell me a joke
    - who won the match
    - 明天天气怎么样
    - 讲个笑话
    - 比赛谁赢了
- intent: faq/hours
  examples: |
    - when do you open
    - what are your opening hours
    - are you open on sunday
    - 几点开门
    - 营业时间是几点
    - 周日开门吗
- intent: faq/shipping
  examples: |
    - how long does shipping take
    - when will my parcel be sent
    - do you ship abroad
    - 多久发货
    - 包邮吗
    - 能寄到国外吗
"""
RULES = """version: "3.1"
rules:
- rule: greet
  steps: [{intent: greet}, {action: utter_greet}]
- rule: goodbye
  steps: [{intent: goodbye}, {action: utter_goodbye}]
- rule: complain
  steps: [{intent: complain}, {action: utter_complain}]
- rule: faq
  steps: [{intent: faq}, {action: utter_faq}]
"""
MESSAGES = ["hello", "good evening", "bye bye", "the box came damaged", "what time do you open", "运费多少",
            "怎么退货", "tell me about the moon", "你好呀", "is shipping free", "my parcel is broken and late"]


def test_skops_trusts_the_same_types_imported_before_rasa():
    lists = {}
    for order in ("first", "after-rasa"):
        done = subprocess.run([sys.executable, "-c", TRUSTED_TYPES, order], capture_output=True, text=True,
                              check=True, cwd=PROJECT_ROOT, timeout=300)
        lists[order] = json.loads(done.stdout.strip().splitlines()[-1])
    assert lists["first"] == lists["after-rasa"]
    assert len(lists["first"]["NUMPY_UFUNC_TYPE_NAMES"]) > 50 and lists["first"]["SKLEARN_ESTIMATOR_TYPE_NAMES"]


def _train(project: Path, command: list, name: str) -> Path:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false",
                   "RASA_CACHE_DIRECTORY": str(project / f"cache-{name}")}
    subprocess.run([sys.executable, "-m", *command, "train", "--config", str(PROJECT_ROOT / "config.yml"),
                    "--domain", str(project / "domain.yml"), "--data", str(project / "data"),
                    "--out", str(project / "models"), "--fixed-model-name", name, "--force", "--skip-validation"],
                   cwd=PROJECT_ROOT, env=environment, check=True, capture_output=True, timeout=600)
    return project / "models" / f"{name}.tar.gz"


def _cached_outputs(cache: Path) -> list:
    """The folders of cached node outputs (beside Rasa's cache.db)."""
    return [path for path in cache.iterdir() if path.is_dir()] if cache.exists() else []


async def _answers(model: Path) -> list:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = []
    for number, text in enumerate(MESSAGES):
        parsed = await agent.parse_message(text)
        replies = await agent.handle_text(text, sender_id=f"user-{number}")
        results.append((parsed, [reply.get("text") for reply in replies]))
    return results


def test_training_without_the_cache_hook_answers_exactly_as_rasa_train(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    (tmp_path / "data" / "nlu.yml").write_text(NLU, encoding="utf-8")
    (tmp_path / "data" / "rules.yml").write_text(RULES, encoding="utf-8")
    stock = _train(tmp_path, ["rasa"], "stock")
    ours = _train(tmp_path, ["bot.runtime.rasa_entry"], "ours")
    assert _cached_outputs(tmp_path / "cache-stock")  # Rasa filled its cache ...
    assert not _cached_outputs(tmp_path / "cache-ours")  # ... ours did not
    stock_answers, our_answers = asyncio.run(_answers(stock)), asyncio.run(_answers(ours))
    assert our_answers == stock_answers
    texts = [replies for _, replies in our_answers]
    assert ["Hello!"] in texts and ["Sorry, a person will look at it."] in texts  # a real model, not an empty one
    shutil.rmtree(tmp_path / "models")

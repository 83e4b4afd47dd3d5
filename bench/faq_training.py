"""Training time and parse speed with many FAQ topics (`make bench`, or alone:
`python -m bench.faq_training [TOPICS]`).

A temporary copy of the content gets synthetic FAQ topics added through the console's own
code (bot/operator/faq_changes.py) until it has TOPICS (default 50), each with 12 examples
per language like the demo topics; `rasa train` is timed there, and the model's parse time
is compared with the current model's on the same messages. Nothing in the real content
changes. The target: training with 50 topics in at most 60 s on this machine.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

from bot.operator import faq, faq_changes
from bot.operator.yaml_files import ContentFiles
from bot.settings import PROJECT_ROOT

TRAINING_TARGET_SECONDS = 60
# Things a shop is asked about, (English, Chinese), beyond the ten demo topics.
SUBJECTS: List[Tuple[str, str]] = [
    ("student discounts", "学生优惠"), ("gift cards", "礼品卡"), ("the loyalty app", "会员小程序"),
    ("click and collect", "到店自提"), ("price protection", "价保"), ("pre-orders", "预售"),
    ("the newsletter", "订阅邮件"), ("corporate orders", "企业团购"), ("custom embroidery", "刺绣定制"),
    ("the warranty", "质保"), ("shoe repairs", "修鞋服务"), ("clothes recycling", "旧衣回收"),
    ("the kids range", "童装系列"), ("plus sizes", "大码服装"), ("vegan leather", "纯素皮革"),
    ("organic cotton", "有机棉"), ("the outlet store", "奥莱店"), ("franchising", "加盟合作"),
    ("job openings", "招聘岗位"), ("wholesale prices", "批发价格"), ("product care", "衣物保养"),
    ("the wedding collection", "婚礼系列"), ("the ski range", "滑雪系列"), ("monogramming", "字母刻印"),
    ("the referral programme", "推荐有礼"), ("the birthday coupon", "生日券"),
    ("installment payments", "分期付款"),
    ("cash on delivery", "货到付款"), ("overseas cards", "境外银行卡"), ("the mobile top-up", "话费充值"),
    ("dog accessories", "宠物配饰"), ("the capsule wardrobe", "胶囊衣橱"), ("styling sessions", "造型服务"),
    ("the trade-in offer", "以旧换新"), ("bulk discounts", "批量折扣"), ("limited editions", "限量款"),
    ("collaborations", "联名款"), ("sample sales", "样品特卖"), ("store events", "门店活动"),
    ("parking validation", "停车减免"),
]
EN_FRAMES = ["what is your policy on {x}", "tell me about {x}", "how does {x} work", "do you offer {x}",
             "i have a question about {x}", "where can i read about {x}", "is {x} available",
             "explain {x} please", "{x}?", "how do i use {x}", "info on {x}", "anything i should know about {x}"]
ZH_FRAMES = ["{x}是怎么规定的", "介绍一下{x}", "{x}怎么用", "你们有{x}吗", "想了解{x}", "{x}在哪里看",
             "{x}可以用吗", "请说明一下{x}", "{x}？", "{x}怎么操作", "{x}的信息", "关于{x}要注意什么"]


def synthetic_topic(number: int) -> Dict:
    en, zh = SUBJECTS[number % len(SUBJECTS)]
    return {"key": f"bench_topic_{number:02d}",
            "examples": {"en": [frame.format(x=en) for frame in EN_FRAMES],
                         "zh": [frame.format(x=zh) for frame in ZH_FRAMES]},
            "answers": {"en": {"text": f"All about {en}: ask in store or online."},
                        "zh": {"text": f"关于{zh}：可以到店或线上咨询。"}}}


def content_with_topics(target: Path, topics: int) -> int:
    """A content copy with `topics` FAQ topics in all; returns the number of training examples added."""
    from tests.operator_content import copy_content

    files = ContentFiles(copy_content(target))
    have = len(faq.list_topics(files))
    added = 0
    for number in range(max(0, topics - have)):
        change = faq_changes.create(files, synthetic_topic(number))
        files.write(change.texts, change.versions)
        added += len(EN_FRAMES) + len(ZH_FRAMES)
    return added


def parse_milliseconds(model: Path, texts: List[str]) -> float:
    """Median time of one parse (the NLU part of every reply)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    asyncio.run(agent.parse_message(texts[0]))  # warm-up
    timings = []
    for text in texts:
        started = time.perf_counter()
        asyncio.run(agent.parse_message(text))
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def run(topics: int = 50) -> Dict:
    from bot.nlu_eval import HELDOUT_DIR, load_examples
    from bot.runtime.training import ensure_model, train

    with tempfile.TemporaryDirectory(prefix="bench-faq-") as folder:
        root = Path(folder) / "content"
        added = content_with_topics(root, topics)
        started = time.monotonic()
        model = train(models_dir=Path(folder) / "models", root=root)
        seconds = round(time.monotonic() - started, 1)
        texts = [text for path in sorted(HELDOUT_DIR.glob("heldout_*.yml")) for text, _ in load_examples(path)]
        many = parse_milliseconds(model, texts)
    current = parse_milliseconds(ensure_model(), texts)
    return {"topics": topics, "examples_added": added, "training_seconds": seconds,
            "training_target_seconds": TRAINING_TARGET_SECONDS, "within_target": seconds <= TRAINING_TARGET_SECONDS,
            "parse_ms_median": {f"{topics} topics": many, "current content": current}, "parsed_messages": len(texts)}


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT_ROOT))
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50), indent=2))

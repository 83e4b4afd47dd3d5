"""Every text a person reads exists in both languages, and nothing falls back silently."""
import re
import string
from pathlib import Path

import pytest
import yaml

from bot.db.models import ORDER_STATUSES, TIERS
from bot.i18n import LANGUAGES, MissingTranslation, detect_language, normalize_language, t
from bot.i18n.catalog import catalog
from bot.i18n.formatting import format_date, format_money
from bot.settings import PROJECT_ROOT

HAN = re.compile(r"[\u4e00-\u9fff]")
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
SEED = yaml.safe_load((PROJECT_ROOT / "data" / "demo" / "seed.yml").read_text(encoding="utf-8"))
CODE_FILES = sorted((PROJECT_ROOT / "actions").glob("*.py")) + sorted((PROJECT_ROOT / "bot").rglob("*.py"))


def placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def variation_language(variation) -> str:
    conditions = variation.get("condition") or []
    languages = [c["value"] for c in conditions if c.get("name") == "language"]
    assert len(languages) == 1, f"variation without exactly one language condition: {variation}"
    return languages[0]


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_every_response_has_each_language_and_only_those(name):
    by_language = {}
    for variation in DOMAIN["responses"][name]:
        by_language.setdefault(variation_language(variation), []).append(variation)
    assert sorted(by_language) == sorted(LANGUAGES), name
    shapes = {lang: [(placeholders(v["text"]), len(v.get("buttons", []))) for v in vs]
              for lang, vs in by_language.items()}
    assert shapes["en"] == shapes["zh"], f"{name}: placeholders or buttons differ by language"
    for variation in by_language["zh"]:
        texts = [variation["text"]] + [b["title"] for b in variation.get("buttons", [])]
        assert all(HAN.search(text) or not re.search("[A-Za-z]{3}", text) for text in texts), name
    for variation in by_language["en"]:
        texts = [variation["text"]] + [b["title"] for b in variation.get("buttons", [])]
        assert not any(HAN.search(text) for text in texts), name


def test_catalogs_have_the_same_keys_and_placeholders():
    en, zh = catalog("en"), catalog("zh")
    assert sorted(en) == sorted(zh)
    for key in en:
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_every_catalog_key_used_in_code_exists():
    literal = re.compile(r"""\bt\(\s*["']([\w.]+)["']""")
    used = {key for path in CODE_FILES for key in literal.findall(path.read_text(encoding="utf-8"))}
    assert used, "the scan found no t() calls at all"
    missing = sorted(key for key in used if key not in catalog("en"))
    assert not missing


def test_every_enumerated_value_shown_to_people_has_a_label():
    reasons = {entry["reason"] for m in SEED["members"] for entry in m["points"]}
    carriers = {o["carrier"] for m in SEED["members"] for o in m["orders"] if o.get("carrier")}
    keys = ([f"points.reason.{r}" for r in reasons] + [f"tier.{tier}" for tier in TIERS]
            + [f"orders.status.{s}" for s in ORDER_STATUSES] + [f"carrier.{c}" for c in carriers])
    for language in LANGUAGES:
        for key in keys:
            assert t(key, language)


def test_every_response_named_in_the_actions_exists():
    named = set()
    for path in sorted((PROJECT_ROOT / "actions").glob("*.py")):
        named |= set(re.findall(r"""response=["'](utter_\w+)["']""", path.read_text(encoding="utf-8")))
        named |= set(re.findall(r"""["'](utter_\w+)["']""", path.read_text(encoding="utf-8")))
    assert named and not named - set(DOMAIN["responses"])


def test_promotions_and_products_carry_both_languages():
    for promotion in SEED["promotions"]:
        assert sorted(promotion["texts"]) == sorted(LANGUAGES)
    for member in SEED["members"]:
        for order in member["orders"]:
            for item in order["items"]:
                assert item["name_en"] and HAN.search(item["name_zh"])


def test_a_missing_text_is_an_error_not_a_fallback():
    with pytest.raises(MissingTranslation):
        t("no.such.key", "zh")
    with pytest.raises(MissingTranslation):
        t("points.unit", "fr")


@pytest.mark.parametrize("text,expected", [
    ("我的order呢", "zh"), ("积分？", "zh"), ("A10023这单发了没", "zh"), ("where is my order", "en"),
    ("ok", "en"), ("A10023", None), ("1234", None), ("👍", None), ("？？", None), ("", None)])
def test_language_detection(text, expected):
    assert detect_language(text) == expected


def test_language_codes_are_normalised():
    assert normalize_language("zh-CN") == "zh"
    assert normalize_language("en_GB") == "en"
    assert normalize_language("fr", "zh") == "zh"


def test_dates_and_money_are_formatted_per_language():
    from datetime import date, datetime, timezone

    assert format_date(date(2026, 11, 23), "zh") == "2026年11月23日"
    assert format_date(date(2026, 11, 23), "en") == "23 Nov 2026"
    # 20:00 UTC is already the next day in Shanghai.
    late = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)
    assert format_date(late, "zh", "Asia/Shanghai") == "2026年11月24日"
    assert format_money(1299, "CNY", "zh") == "¥1,299.00"

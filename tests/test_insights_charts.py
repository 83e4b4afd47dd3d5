"""The insights charts are well-formed, self-contained SVG whose dots, bars and labels say
what the data says, whatever the data: none, one day, millions, long Chinese labels."""
import xml.etree.ElementTree as ET

import pytest

from bot.insights.charts import (bar_chart, display_width, distribution_chart, line_chart, nice_ticks,
                                 number_text, truncate)

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and root.get("viewBox") and root.get("role") == "img"
    assert root[0].tag == SVG + "title", "the accessible name comes first"
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", ""), "no external assets"
    return root


def all_of(root: ET.Element, tag: str, css_class: str = None) -> list:
    found = root.iter(SVG + tag)
    return [node for node in found if css_class is None or css_class in (node.get("class") or "").split()]


def texts(root: ET.Element, css_class: str) -> list:
    return [node.text for node in all_of(root, "text", css_class)]


def days(count: int, start: int = 1, month: str = "2026-11") -> list:
    return [f"{month}-{day:02d}" for day in range(start, start + count)]


def test_a_month_of_days_is_a_dot_per_day_with_the_previous_month_dashed():
    current = [(day, value) for day, value in zip(days(30), range(30))]
    previous = [(day, 2 * value) for day, value in zip(days(31, month="2026-10"), range(31))]
    root = parsed(line_chart(current, "Messages", previous=previous))
    assert root[0].text == "Messages"
    points = all_of(root, "circle", "point")
    assert len(points) == 30
    assert [p.get("data-day") for p in points] == days(30)
    assert points[0].find(SVG + "title").text == "2026-11-01: 0"
    dashed = all_of(root, "polyline", "previous")
    assert len(dashed) == 1 and dashed[0].get("stroke-dasharray")
    assert len(dashed[0].get("points").split()) == 31
    assert len(all_of(root, "polyline", "current")) == 1 and len(all_of(root, "polygon", "area")) == 1
    labels = texts(root, "x-tick")
    assert labels[0] == "11-01" and labels[-1] == "11-30" and len(labels) <= 7
    assert all(float(p.get("cy")) < 220 for p in points), "every dot inside the chart"
    assert float(points[-1].get("cy")) < float(points[0].get("cy")), "more is higher"


def test_no_data_says_so_instead_of_drawing_nothing():
    for svg in (line_chart([], "Messages", empty_text="No data"),
                line_chart([("2026-11-01", None)], "Messages", empty_text="No data"),
                bar_chart([], "Top", empty_text="No data"),
                distribution_chart([("1", 0), ("2", 0)], "CSAT", empty_text="No data")):
        root = parsed(svg)
        assert texts(root, "empty") == ["No data"]
        assert not all_of(root, "circle") and not all_of(root, "rect")


def test_one_day_is_one_dot_in_the_middle():
    root = parsed(line_chart([("2026-11-23", 7)], "Today"))
    (point,) = all_of(root, "circle", "point")
    assert float(point.get("cx")) == pytest.approx(64 + (640 - 64 - 12) / 2, abs=0.1)
    assert texts(root, "x-tick") == ["11-23"]


def test_huge_values_get_round_ticks_with_thousands_separators():
    root = parsed(line_chart([("2026-11-01", 1_234_567), ("2026-11-02", 987_654)], "Big"))
    ticks = texts(root, "y-tick")
    assert ticks == ["0", "500,000", "1,000,000", "1,500,000"]
    assert number_text(1234567.5) == "1,234,567.5" and number_text(None) == "–"
    assert nice_ticks(0) == [0, 1] and nice_ticks(9)[-1] >= 9


def test_the_formatter_writes_the_unit_on_ticks_and_dots():
    root = parsed(line_chart([("2026-11-01", 50), ("2026-11-02", 75.5)], "Rate", fmt=lambda v: f"{v:g}%"))
    assert texts(root, "y-tick") == ["0%", "20%", "40%", "60%", "80%"]
    assert all_of(root, "circle")[1].find(SVG + "title").text == "2026-11-02: 75.5%"


def test_bars_are_the_top_n_longest_first_with_long_chinese_labels_cut():
    long_label = "我想知道我的订单什么时候能发货因为已经等了很久了"
    rows = [(long_label, 1200), ("points", 600), ("<script>", 300)] + [(f"intent_{i}", 10) for i in range(20)]
    svg = bar_chart(rows, "Top intents", limit=10)
    root = parsed(svg)
    bars = all_of(root, "rect", "bar")
    assert len(bars) == 10
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[0] > widths[1] > widths[2] and widths[1] == pytest.approx(widths[0] / 2, abs=0.2)
    labels = texts(root, "label")
    assert labels[0].endswith("…") and display_width(labels[0]) <= 26
    assert labels[1:3] == ["points", "<script>"]  # escaped in the source, the same text when read
    assert "<script>" not in svg and bars[0].find(SVG + "title").text == f"{long_label}: 1,200"
    assert texts(root, "value")[:2] == ["1,200", "600"]


def test_a_csat_distribution_is_five_columns_with_counts_and_shares():
    root = parsed(distribution_chart([("1", 1), ("2", 0), ("3", 1), ("4", 3), ("5", 5)], "CSAT"))
    bars = all_of(root, "rect", "bar")
    assert len(bars) == 5 and float(bars[1].get("height")) == 0
    assert float(bars[4].get("height")) > float(bars[3].get("height"))
    assert texts(root, "label") == ["1", "2", "3", "4", "5"]
    assert texts(root, "value") == ["1", "0", "1", "3", "5"]
    assert texts(root, "share") == ["10%", "0%", "10%", "30%", "50%"]


def test_truncation_counts_chinese_characters_double():
    assert truncate("short", 10) == "short"
    assert truncate("中文中文中文", 8) == "中文中…"
    assert display_width(truncate("中文中文中文", 8)) <= 8
    assert truncate("abcdefghijk", 6) == "abcde…"


def test_days_sit_where_they_fall_in_the_period_and_a_left_out_day_is_a_gap():
    # a rate series leaves out the days with no messages: the 2nd and 3rd of a 5-day period
    root = parsed(line_chart([("2026-11-01", 50), ("2026-11-04", 80), ("2026-11-05", 70)], "Rate",
                             first_day="2026-11-01", day_count=5))
    xs = [float(point.get("cx")) for point in all_of(root, "circle", "point")]
    step = (640 - 64 - 12) / 4
    assert xs == pytest.approx([64, 64 + 3 * step, 64 + 4 * step], abs=0.1)
    assert texts(root, "x-tick")[0] == "11-01" and texts(root, "x-tick")[-1] == "11-05"


def test_a_previous_period_is_placed_from_its_own_first_day():
    root = parsed(line_chart([("2026-11-01", 1), ("2026-11-02", 2)], "Messages", first_day="2026-11-01", day_count=2,
                             previous=[("2026-10-31", 4)], previous_first_day="2026-10-30"))
    (dashed,) = all_of(root, "polyline", "previous")
    x, _ = dashed.get("points").split(",")
    assert float(x) == pytest.approx(640 - 12, abs=0.1), "the previous period's 2nd day under this one's 2nd"


def test_bars_are_sorted_largest_first_and_all_zeros_are_no_data():
    root = parsed(bar_chart([("small", 1), ("big", 9), ("middle", 5)], "Top"))
    assert texts(root, "label") == ["big", "middle", "small"]
    assert texts(parsed(bar_chart([("a", 0), ("b", 0)], "Top", empty_text="No data")), "empty") == ["No data"]


def test_figures_are_written_for_their_unit_and_language():
    from bot.insights.dashboard import change, value_text

    assert value_text(12345, "count", "en") == "12,345"
    assert value_text(72.5, "percent", "zh") == "72.5%"
    assert value_text(45, "seconds", "en") == "45 s" and value_text(200, "seconds", "zh") == "3分20秒"
    assert value_text(7500, "seconds", "en") == "2 h 5 min" and value_text(600, "seconds", "zh") == "10分钟" and value_text(4.25, "score", "en") == "4.25"
    assert value_text(None, "count", "en") == "–"
    assert change(120, 100, "count", "en") == ("up", "↑ 20%")
    assert change(80, 100, "count", "zh") == ("down", "↓ 20%")
    assert change(55.5, 50, "percent", "en") == ("up", "↑ 5.5 pts")
    assert change(55.5, 50, "percent", "zh") == ("up", "↑ 5.5个百分点")
    assert change(3, 0, "count", "en") == ("up", "↑ 3")
    assert change(5, 5, "count", "en")[0] == "same" and change(5, None, "count", "en")[0] == "none"


def test_a_few_daily_lines_on_one_chart_each_with_its_dots():
    from bot.insights.charts import multi_line_chart

    lines = [("ask_points", [("2026-11-01", 5), ("2026-11-02", 3)]), ("greet", [("2026-11-01", 1), ("2026-11-02", 0)])]
    root = parsed(multi_line_chart(lines, "Top intents per day", first_day="2026-11-01", day_count=2))
    groups = [g for g in all_of(root, "g") if g.get("data-label")]
    assert [g.get("data-label") for g in groups] == ["ask_points", "greet"]
    assert [len(g.findall(SVG + "circle")) for g in groups] == [2, 2]
    assert groups[0].find(SVG + "circle").find(SVG + "title").text == "2026-11-01: ask_points: 5"
    empty = parsed(multi_line_chart([("greet", [("2026-11-01", 0)])], "T", first_day="2026-11-01", day_count=1,
                                    empty_text="No data"))
    assert texts(empty, "empty") == ["No data"]

"""One insights section (bot.insights.sections.compute's dict) as HTML: figures as cards
with the previous period and the change, each series as a chart over its table, each
table under a bar chart where a chart helps, with its CSV link.

Both consoles' insights pages show sections through this, so an operator and a team
lead read the same figures written the same way. Every label comes from the catalog
(insights.* of insights.<lang>.yml, insights_ui.* for the page's own words); a label
that is missing shows its key, which the tests look for, rather than a guess.
"""
from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from bot.i18n.catalog import catalog
from bot.i18n.formatting import format_date
from bot.insights.charts import bar_chart, distribution_chart, line_chart, multi_line_chart, number_text

Link = Callable[[str], str]  # table key -> the URL of its CSV
# (table key, column, the row by column) -> (URL, link text or None for the cell's own), or
# None: a cell that opens something elsewhere (a hot spot's inbox group, its conversation)
CellLink = Callable[[str, str, Dict[str, Any]], Optional[Tuple[str, Optional[str]]]]
Units = Dict[str, str]  # column or series key -> unit, from the section's figures of that key
DISTRIBUTION_COLUMNS = ("score",)  # a first column of these: a 1-5 distribution, in its order
LABEL_COLUMNS = ("title", "name", "topic", "text")  # what a bar is labelled with, before the first column
UNIT_SUFFIXES = (("_seconds", "seconds"), ("_rate", "percent"), ("percent", "percent"), ("share", "percent"),
                 ("_median", "seconds"), ("_p90", "seconds"), ("_average", "score"))
# Values shown by their label (the CSV keeps the value): column -> catalog key prefix.
VALUE_LABELS = {"category": "queue.category.", "reason": "console.reason_", "kind": "insights_ui.kind.",
                "decision": "insights_ui.decision.", "member_tier": "tier."}
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
LONG_TABLE = 12  # rows; a longer table is folded under its chart


# --- words and numbers -----------------------------------------------------------------------

def text(language: str, key: str, **params: Any) -> str:
    """The catalog text of `key`, or the key itself when it has none (seen, then fixed)."""
    template = catalog(language).get(key)
    if template is None:
        return key
    return template.format(**params) if params else template


def ui(language: str, key: str, **params: Any) -> str:
    return text(language, "insights_ui." + key, **params)


def duration_text(seconds: float, language: str) -> str:
    """45 s, 3 min 20 s, 2 h 5 min (45秒, 3分20秒, 2小时5分): as people say waiting times."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours and minutes:
        return ui(language, "unit.hours_minutes", h=f"{hours:,}", m=minutes)
    if hours:
        return ui(language, "unit.hours", h=f"{hours:,}")
    if minutes and secs:
        return ui(language, "unit.minutes_seconds", m=minutes, s=secs)
    if minutes:
        return ui(language, "unit.minutes", m=minutes)
    return ui(language, "unit.seconds", s=secs)


def value_text(value: Optional[float], unit: str, language: str) -> str:
    """A figure written for its unit: 1,234 / 72.5% / 3 min 20 s / 4.25 (– for none)."""
    if value is None:
        return "–"
    if unit == "percent":
        return ui(language, "unit.percent", value=number_text(round(value, 1)))
    if unit == "seconds":
        return duration_text(value, language)
    if unit == "score":
        return f"{value:.2f}"
    return number_text(round(value, 1) if isinstance(value, float) else value)


def formatter(unit: str, language: str) -> Callable[[float], str]:
    return lambda value: value_text(value, unit, language)


def change(value: Optional[float], previous: Optional[float], unit: str, language: str) -> Tuple[str, str]:
    """(direction, text) of a figure against the previous period: a relative change in %,
    or in percentage points for a figure that is itself a percentage."""
    if value is None or previous is None:
        return "none", ui(language, "no_previous")
    difference = value - previous
    if abs(difference) < 1e-9:
        return "same", ui(language, "unchanged")
    arrow, direction = ("↑", "up") if difference > 0 else ("↓", "down")
    if unit == "percent":
        amount = ui(language, "points_change", value=number_text(round(abs(difference), 1)))
    elif previous == 0:
        amount = value_text(abs(difference), unit, language)
    else:
        amount = ui(language, "unit.percent", value=number_text(round(abs(difference) / abs(previous) * 100, 1)))
    return direction, f"{arrow} {amount}"


def day_text(day: str, language: str) -> str:
    """A day on a chart's axis: 3 Nov / 11月3日."""
    parsed = date.fromisoformat(day)
    return format_date(parsed, language).rsplit(" ", 1)[0] if language == "en" else f"{parsed.month}月{parsed.day}日"


def column_unit(column: str, units: Units) -> str:
    """A column's unit: that of the figure of the same key (first_response_median), else
    read from its name (previous_handoff_rate, share, change_percent), else a count."""
    if column in units:
        return units[column]
    return next((unit for suffix, unit in UNIT_SUFFIXES if column.endswith(suffix)), "count")


def cell_text(value: Any, column: str, language: str, units: Units) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return ui(language, "bool_yes" if value else "bool_no")
    if isinstance(value, (int, float)):
        return value_text(value, column_unit(column, units), language)
    if column == "language":
        return LANGUAGE_NAMES.get(value, str(value))
    if column in VALUE_LABELS:
        return catalog(language).get(VALUE_LABELS[column] + str(value), str(value))
    return str(value)


def period_text(period: Dict[str, str], language: str) -> Tuple[str, str]:
    """("1 Nov 2026 – 30 Nov 2026", "compared with 1 Oct 2026 – 31 Oct 2026")."""
    def span(first: str, last: str) -> str:
        start, end = (format_date(date.fromisoformat(day), language) for day in (first, last))
        return start if first == last else ui(language, "period_range", start=start, end=end)
    return (span(period["from"], period["to"]),
            ui(language, "compared_with", span=span(period["previous_from"], period["previous_to"])))


# --- HTML ---------------------------------------------------------------------------------------------

def dashboard_html(result: Dict[str, Any], language: str, csv_link: Link,
                   previous: Optional[Dict[str, Any]] = None, series_csv_link: Optional[Link] = None,
                   cell_link: Optional[CellLink] = None) -> str:
    """The figures, charts and tables of one computed section; `previous` is the same
    section computed for the previous period, whose series are drawn dashed; each series'
    table links to its CSV (`series_csv_link`: series key -> URL); `cell_link` turns
    cells into links."""
    units = {figure["key"]: figure.get("unit", "count") for figure in result.get("figures", [])}
    earlier = {series["key"]: series for series in (previous or {}).get("series", [])}
    charts = [series_html(series, earlier.get(series["key"]), result["period"], units.get(series["key"], "count"),
                          language, series_csv_link) for series in result.get("series", [])]
    parts = [figures_html(result.get("figures", []), language),
             '<div class="series-grid">' + "".join(charts) + "</div>"]
    parts += [table_html(table, result["period"], language, csv_link, units, cell_link)
              for table in result.get("tables", [])]
    return "\n".join(parts)


def figures_html(figures: Sequence[Dict[str, Any]], language: str) -> str:
    if not figures:
        return ""
    return '<div class="figures">' + "".join(figure_card(figure, language) for figure in figures) + "</div>"


def figure_card(figure: Dict[str, Any], language: str) -> str:
    unit, value, previous = figure.get("unit", "count"), figure.get("value"), figure.get("previous")
    direction, change_words = change(value, previous, unit, language)
    previous_words = ui(language, "previous", value=value_text(previous, unit, language))
    return (f'<div class="card figure" data-key="{_attr(figure["key"])}" data-value="{_attr(_raw(value))}" '
            f'data-previous="{_attr(_raw(previous))}">'
            f'<div class="label">{escape(text(language, "insights.figure." + figure["key"]))}</div>'
            f'<div class="value">{escape(value_text(value, unit, language))}</div>'
            f'<div class="previous">{escape(previous_words)}</div>'
            f'<div class="change {direction}">{escape(change_words)}</div></div>')


def series_html(series: Dict[str, Any], previous: Optional[Dict[str, Any]], period: Dict[str, str], unit: str,
                language: str, csv_link: Optional[Link] = None) -> str:
    """A daily chart, the previous period dashed, and the same numbers as a table (folded
    away: the chart is what people look at) with the link to them as CSV."""
    title = text(language, "insights.series." + series["key"])
    points = [(point["day"], point.get("value")) for point in series.get("points", [])]
    earlier = [(point["day"], point.get("value")) for point in (previous or {}).get("points", [])]
    days = _days(period["from"], period["to"])
    chart = line_chart(points, title, first_day=period["from"], day_count=len(days), previous=earlier,
                       previous_first_day=period["previous_from"], fmt=formatter(unit, language),
                       day_label=lambda day: day_text(day, language), empty_text=ui(language, "no_data"))
    numbers = series_table(series_rows(series, previous, period), previous is not None, unit, language)
    csv = (f'<p class="table-links"><a class="csv" href="{_attr(csv_link(series["key"]))}" download>'
           f'{escape(ui(language, "csv"))}</a></p>' if csv_link else "")
    return (f'<section class="block series" data-key="{_attr(series["key"])}"><h3>{escape(title)}</h3>'
            f'<div class="chart-box">{chart}</div>{_legend(earlier, language)}'
            f'<details><summary>{escape(ui(language, "show_table"))}</summary>{numbers}</details>{csv}</section>')


def _days(first: str, last: str) -> List[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _legend(previous: Sequence[Any], language: str) -> str:
    if not previous:
        return ""
    return (f'<p class="legend"><span class="key current"></span>{escape(ui(language, "this_period"))} '
            f'<span class="key previous"></span>{escape(ui(language, "previous_period"))}</p>')


def series_rows(series: Dict[str, Any], previous: Optional[Dict[str, Any]], period: Dict[str, str]) -> List[List]:
    """[day, value] for every day of the period (None: no value, as a rate of nothing), and
    with `previous`, beside it the same day of the previous period (the day it was, since
    months differ in length) and its value. The page's table and the series' CSV."""
    values = {point["day"]: point.get("value") for point in series.get("points", [])}
    days = _days(period["from"], period["to"])
    if previous is None:
        return [[day, values.get(day)] for day in days]
    earlier = {point["day"]: point.get("value") for point in previous.get("points", [])}
    previous_days = _days(period["previous_from"], period["previous_to"])
    rows = []
    for index, day in enumerate(days):
        before = previous_days[index] if index < len(previous_days) else None
        rows.append([day, values.get(day), before, earlier.get(before)])
    return rows


def series_table(rows: List[List], with_previous: bool, unit: str, language: str) -> str:
    headers = [ui(language, "day"), ui(language, "this_period")]
    if with_previous:
        headers += [ui(language, "previous_day"), ui(language, "previous_period")]
    body = []
    for row in rows:
        cells = [_td(row[0], row[0]), _td(value_text(row[1], unit, language), row[1], numeric=True)]
        if with_previous:
            cells += [_td(row[2] or "–", row[2]), _td(value_text(row[3], unit, language), row[3], numeric=True)]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return _table("series-table", headers, body, language)


def table_html(table: Dict[str, Any], period: Dict[str, str], language: str, csv_link: Link, units: Units,
               cell_link: Optional[CellLink] = None) -> str:
    """The table under its chart, folded away when it is long (the chart says it at a
    glance), with the link to the same rows as CSV."""
    key, columns, rows = table["key"], list(table.get("columns", [])), table.get("rows", [])
    title = text(language, "insights.table." + key)
    headers = [text(language, "insights.column." + column) for column in columns]
    body = ["<tr>" + "".join(_cell(key, row, column, language, units, cell_link) for column in columns) + "</tr>"
            for row in ({column: cell for column, cell in zip(columns, values)} for values in rows)]
    numbers = _table("data-table", headers, body, language)
    if len(rows) > LONG_TABLE:
        numbers = f'<details><summary>{escape(ui(language, "show_rows", count=len(rows)))}</summary>{numbers}</details>'
    csv = f'<a class="csv" href="{_attr(csv_link(key))}" download>{escape(ui(language, "csv"))}</a>'
    return (f'<section class="block table-block" data-key="{_attr(key)}"><h3>{escape(title)}</h3>'
            f'{table_chart(title, columns, rows, period, language, units)}{numbers}'
            f'<p class="table-links">{csv}</p></section>')


def table_chart(title: str, columns: List[str], rows: List[List[Any]], period: Dict[str, str], language: str,
                units: Units) -> str:
    """Scores as a 1-5 distribution; (day, name, number) rows as a line per name; a list
    of labelled numbers as bars of its first numeric column, largest first; nothing for a
    table with no numbers."""
    if not rows:
        return ""
    if columns[0] == "day" and len(columns) == 3:
        return daily_lines_chart(title, columns, rows, period, language, units)
    value_index = next((index for index in range(1, len(columns))
                        if all(_is_number(row[index]) for row in rows)), None)
    if value_index is None:
        return ""
    fmt = formatter(column_unit(columns[value_index], units), language)
    pairs = [(_bar_label(row, columns, language, units), row[value_index]) for row in rows]
    if columns[0] in DISTRIBUTION_COLUMNS:
        chart = distribution_chart(pairs, title, fmt=fmt, empty_text=ui(language, "no_data"))
    else:
        chart = bar_chart(pairs, title, fmt=fmt, empty_text=ui(language, "no_data"))
    return f'<div class="chart-box">{chart}</div>'


def daily_lines_chart(title: str, columns: List[str], rows: List[List[Any]], period: Dict[str, str], language: str,
                      units: Units) -> str:
    """(day, name, number) rows, e.g. the top intents per day, as one line per name."""
    lines: Dict[str, List[Tuple[str, Any]]] = {}
    for day, name, value in rows:
        lines.setdefault(cell_text(name, columns[1], language, units), []).append((day, value))
    days = len(_days(period["from"], period["to"]))
    chart = multi_line_chart(list(lines.items()), title, first_day=period["from"], day_count=days,
                             fmt=formatter(column_unit(columns[2], units), language),
                             day_label=lambda day: day_text(day, language), empty_text=ui(language, "no_data"))
    legend = "".join(f'<span class="key line-{index}"></span>{escape(name)} ' for index, name in enumerate(lines))
    return f'<div class="chart-box">{chart}</div><p class="legend">{legend}</p>'


def _bar_label(row: List[Any], columns: List[str], language: str, units: Units) -> str:
    """A row's name: its title, name, topic or text when it has one, else its first cell
    (a group without a title goes by its chat id)."""
    preferred = [columns.index(name) for name in LABEL_COLUMNS if name in columns]
    for index in preferred + [1 if columns[:2] == ["platform", "chat_id"] else 0, 0]:
        if row[index] not in (None, ""):
            return cell_text(row[index], columns[index], language, units)
    return "–"


def _cell(table_key: str, row: Dict[str, Any], column: str, language: str, units: Units,
          cell_link: Optional[CellLink]) -> str:
    """A cell: its value written for people (the raw value in data-value), as a link when
    `cell_link` has one for it."""
    value = row[column]
    shown = cell_text(value, column, language, units)
    link = cell_link(table_key, column, row) if cell_link else None
    if link is None:
        return _td(shown, value, _is_number(value))
    href, label = link
    css = ' class="num"' if _is_number(value) else ""
    return (f'<td{css} data-value="{_attr(_raw(value))}"><a class="open-{_attr(column)}" href="{_attr(href)}">'
            f'{escape(label or shown)}</a></td>')


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(css_class: str, headers: List[str], rows: List[str], language: str) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    if not rows:
        rows = [f'<tr class="empty"><td colspan="{len(headers)}">{escape(ui(language, "no_rows"))}</td></tr>']
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _td(shown: str, raw: Any, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f'<td{css} data-value="{_attr(_raw(raw))}">{escape(str(shown))}</td>'


def _raw(value: Any) -> str:
    return "" if value is None else str(value)


def _attr(value: Any) -> str:
    return escape(str(value), quote=True)

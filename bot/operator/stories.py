"""Stories (data/stories) and rules (data/rules): shown as readable steps, edited one at
a time as a small YAML document (`story: …` / `rule: …` with its steps)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml.comments import CommentedSeq

from bot.operator.yaml_files import ContentError, ContentFiles, check_file_name, dump, parse

KINDS = {"data/stories": ("stories", "story"), "data/rules": ("rules", "rule")}


def kind_of(file_name: str) -> Tuple[str, str]:
    folder = check_file_name(file_name).rsplit("/", 1)[0]
    if folder not in KINDS:
        raise ContentError(f"{file_name} is not a stories or rules file", status=404)
    return KINDS[folder]


def _step(step: Dict[str, Any]) -> Dict[str, str]:
    """One step as the console shows it: who acts, and what."""
    if "intent" in step:
        entities = [next(iter(e)) if isinstance(e, dict) else str(e) for e in step.get("entities") or []]
        return {"who": "user", "what": step["intent"] + (f" ({', '.join(entities)})" if entities else "")}
    if "action" in step:
        return {"who": "bot", "what": str(step["action"])}
    if "slot_was_set" in step:
        pairs = [f"{k} = {v}" for item in step["slot_was_set"] or []
                 for k, v in (item.items() if isinstance(item, dict) else [(item, "set")])]
        return {"who": "slot", "what": ", ".join(pairs)}
    if "active_loop" in step:
        return {"who": "form", "what": f"{step['active_loop']}" if step["active_loop"] else "–"}
    if "or" in step:
        return {"who": "user", "what": " / ".join(_step(part)["what"] for part in step["or"])}
    if "checkpoint" in step:
        return {"who": "checkpoint", "what": str(step["checkpoint"])}
    return {"who": "other", "what": dump(step).strip()}


def readable(item: Dict[str, Any]) -> List[Dict[str, str]]:
    conditions = [{**_step(step), "condition": True} for step in item.get("condition") or []]
    return conditions + [_step(step) for step in item.get("steps") or []]


def list_stories(files: ContentFiles) -> List[Dict[str, Any]]:
    found = []
    for folder, (section, key) in KINDS.items():
        for name in files.editable(folder):
            document, version = files.load(name)
            for item in (document or {}).get(section) or []:
                found.append({"file": name, "version": version, "kind": key, "name": item.get(key),
                              "steps": readable(item), "yaml": dump(item)})
    return found


def parse_item(file_name: str, text: str) -> Dict[str, Any]:
    """One story or rule from the editor, checked for the shape Rasa expects."""
    section, key = kind_of(file_name)
    item = parse(text, "the story" if key == "story" else "the rule")
    if isinstance(item, list) and len(item) == 1:
        item = item[0]
    other = "rule" if key == "story" else "story"
    if isinstance(item, dict) and other in item:
        raise ContentError(f"{file_name} holds {section}; a {other} belongs in "
                           f"{'data/rules' if other == 'rule' else 'data/stories'}")
    if not isinstance(item, dict) or not str(item.get(key) or "").strip():
        raise ContentError(f"start with `{key}: <a name>` and then `steps:`")
    steps = item.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ContentError("steps: must be a list with at least one step")
    for position, step in enumerate(steps, 1):
        if not isinstance(step, dict) or len(step) == 0:
            raise ContentError(f"step {position} is not a `- intent: …` / `- action: …` step")
    return item


def upsert(files: ContentFiles, file_name: str, original: Optional[str], text: str) -> Tuple[str, Any, str]:
    """The file's new text with one story/rule added or replaced; (text, before, name)."""
    section, key = kind_of(file_name)
    item = parse_item(file_name, text)
    document, _ = files.load(file_name)
    items = document.setdefault(section, CommentedSeq())
    names = [existing.get(key) for existing in items]
    name = str(item[key]).strip()
    if name != original and name in names:
        raise ContentError(f"a {key} named {name!r} already exists in {file_name}", status=409)
    if original is None:
        items.append(item)
        return dump(document), None, name
    if original not in names:
        raise ContentError(f"there is no {key} {original!r} in {file_name}", status=404)
    position = names.index(original)
    before = dump(items[position])
    items[position] = item
    return dump(document), before, name


def remove(files: ContentFiles, file_name: str, name: str) -> Tuple[str, str]:
    section, key = kind_of(file_name)
    document, _ = files.load(file_name)
    items = document.get(section) or []
    names = [existing.get(key) for existing in items]
    if name not in names:
        raise ContentError(f"there is no {key} {name!r} in {file_name}", status=404)
    before = dump(items[names.index(name)])
    del items[names.index(name)]
    return dump(document), before

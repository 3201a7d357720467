"""Render a Compose stack without Docker: load `compose.yaml` and an override file and merge them the
way Docker Compose does (compose-spec `merge.md`), so the rendered stacks can be checked statically.

- mappings merge key by key, recursively; scalars from the override win;
- a service's `networks`, `depends_on` and `environment` are read as mappings whichever form they
  are written in (a list of names, `KEY=value` items);
- `ports` merge as a set of published ports, `volumes` by their target in the container,
  `secrets` by name; `command`, `entrypoint` and a healthcheck's `test` are replaced whole; other
  sequences are appended;
- `!override` replaces a value whole, `!reset` removes it (Compose 2.24.4 and later).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Override:
    value: Any


class Reset:
    pass


class _Loader(yaml.SafeLoader):
    pass


def _override(loader: yaml.SafeLoader, node: yaml.Node) -> Override:
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    return Override(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_constructor("!override", _override)
_Loader.add_constructor("!reset", lambda loader, node: Reset())

REPLACED = {"command", "entrypoint", "test"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_Loader)
    return data


def _mapping(value: Any) -> Any:
    """A service's list-or-mapping fields, as a mapping."""
    if isinstance(value, list):
        mapping: dict[str, Any] = {}
        for item in value:
            key, _, val = str(item).partition("=")
            mapping[key] = val if "=" in str(item) else None
        return mapping
    return value


def _canonical(compose: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(compose)
    for service in (result.get("services") or {}).values():
        for key in ("networks", "depends_on", "environment"):
            if key in service and not isinstance(service[key], Override | Reset):
                service[key] = _mapping(service[key])
    return result


def _volume_target(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("target"))
    parts = str(entry).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _merge_list(key: str, base: list[Any], extra: list[Any]) -> list[Any]:
    if key in REPLACED:
        return list(extra)
    if key == "volumes":
        by_target = {_volume_target(v): v for v in base}
        by_target.update({_volume_target(v): v for v in extra})
        return list(by_target.values())
    if key in ("ports", "secrets", "expose", "profiles"):
        return list(dict.fromkeys([*map(_hashable, base), *map(_hashable, extra)]))
    return [*base, *extra]


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, dict) else yaml.safe_dump(value, sort_keys=True)


def _merge(base: Any, extra: Any, key: str = "") -> Any:
    if isinstance(extra, Override):
        return copy.deepcopy(extra.value)
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for k, v in extra.items():
            if isinstance(v, Reset):
                merged.pop(k, None)
            elif k in merged:
                merged[k] = _merge(merged[k], v, k)
            else:
                merged[k] = v.value if isinstance(v, Override) else copy.deepcopy(v)
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return _merge_list(key, base, extra)
    return copy.deepcopy(extra)


def render(*paths: Path) -> dict[str, Any]:
    """The stack Compose would run from these files, in order (`docker compose -f a -f b config`)."""
    rendered: dict[str, Any] = {}
    for path in paths:
        rendered = _merge(rendered, _canonical(load(path)))
    return rendered


def stack(repo_root: Path, name: str) -> dict[str, Any]:
    return render(repo_root / "compose.yaml", repo_root / f"compose.{name}.yaml")


def volume_name(compose: dict[str, Any], key: str) -> str:
    """What Docker calls a named volume: its `name`, else `<project>_<key>`."""
    spec = (compose.get("volumes") or {}).get(key) or {}
    return str(spec.get("name") or f"{compose['name']}_{key}")


def published(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host address, host port) of each published port; a bare container port is published on a
    random host port, which two stacks never share."""
    found = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "0.0.0.0")), str(port.get("published"))))
            continue
        parts = str(port).split(":")
        if len(parts) == 3:
            found.append((parts[0], parts[1]))
        elif len(parts) == 2:
            found.append(("0.0.0.0", parts[0]))
    return found

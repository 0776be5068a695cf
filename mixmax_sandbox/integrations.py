"""Developer integrations: /integrations/commands, /enhancements, /linkresolvers, /sidebars.

Shapes as live rows show them (Airbyte's schemas, inferred from a real account;
docs/mixmax-api.md 2.12): a few rows per user, each in the standard envelope.

- **integration_commands**: _id, id, name, commands[str], commandResolverUrl,
  commandParameterHintsUrl, parameterPlaceholder
- **integration_enhancements**: _id, id, name, category (a name, or on odd rows a list of
  names: live rows show both), commands[str], icon, iconTooltip, editorUrl, editorWidth,
  editorHeight, activateUrl, resolverUrl, isEditable
- **integration_link_resolvers**: _id, id, description, regex, resolverUrl, order,
  createdAt ISO
- **integration_sidebars**: _id, mixmaxId, name, url, iconName, iconImage, iconColor

Rows without a date page by their ObjectId's time (paging.py): Mixmax's order for these
lists is undocumented, and the tap follows `next` whatever it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from .ids import iso, meteor_id, object_id

# Path after /v1 -> resource.
PATHS = {
    "integrations/commands": "integration_commands",
    "integrations/enhancements": "integration_enhancements",
    "integrations/linkresolvers": "integration_link_resolvers",
    "integrations/sidebars": "integration_sidebars",
}
RESOURCES = tuple(PATHS.values())
ROWS_PER_SCALE = {"tiny": 1, "small": 3, "medium": 5, "large": 8}  # of each resource
NAMES = ("Giphy", "Jira", "Salesforce", "Zendesk", "Stripe", "Weather", "Tenor", "Docs")
CATEGORIES = ("Productivity", "Sales", "Support", "Fun")
SPAN_DAYS = 365
DAY_MS = 86_400_000


class Builds(Protocol):
    """What this module needs of a World."""

    now_ms: int
    scale: str

    def _rng(self, *parts: object) -> random.Random: ...
    def _collection(self, name: str) -> Any: ...


def _base(name: str) -> str:
    return f"https://{name.lower()}.integrations.example.com"


def command_row(rng: random.Random, index: int, created: int) -> dict[str, Any]:
    name = NAMES[index % len(NAMES)]
    return {
        "_id": object_id(rng, created),
        "id": f"{name.lower()}-command",
        "name": name,
        "commands": [name.lower()],
        "commandResolverUrl": f"{_base(name)}/resolver",
        "commandParameterHintsUrl": f"{_base(name)}/typeahead",
        "parameterPlaceholder": "[Search]",
    }


def enhancement_row(rng: random.Random, index: int, created: int) -> dict[str, Any]:
    name = NAMES[(index + 2) % len(NAMES)]
    category: Any = CATEGORIES[index % len(CATEGORIES)]
    if index % 2:  # live rows show a list of names as well as one name
        category = [category, CATEGORIES[(index + 1) % len(CATEGORIES)]]
    return {
        "_id": object_id(rng, created),
        "id": f"{name.lower()}-enhancement",
        "name": f"{name} card",
        "category": category,
        "commands": [f"{name.lower()}-card"],
        "icon": f"{_base(name)}/icon.png",
        "iconTooltip": f"Insert a {name} card",
        "editorUrl": f"{_base(name)}/editor",
        "editorWidth": rng.choice((400, 500, 600)),
        "editorHeight": rng.choice((300, 400)),
        "activateUrl": f"{_base(name)}/activate",
        "resolverUrl": f"{_base(name)}/resolve",
        "isEditable": index % 3 != 0,
    }


def link_resolver_row(rng: random.Random, index: int, created: int) -> dict[str, Any]:
    name = NAMES[(index + 4) % len(NAMES)]
    return {
        "_id": object_id(rng, created),
        "id": f"{name.lower()}-links",
        "description": f"Previews of {name} links",
        "regex": rf"https?://(www\.)?{name.lower()}\.example\.com/.*",
        "resolverUrl": f"{_base(name)}/links",
        "order": index,
        "createdAt": iso(created),
    }


def sidebar_row(rng: random.Random, index: int, created: int) -> dict[str, Any]:
    name = NAMES[(index + 6) % len(NAMES)]
    return {
        "_id": object_id(rng, created),
        "mixmaxId": meteor_id(rng),
        "name": f"{name} sidebar",
        "url": f"{_base(name)}/sidebar",
        "iconName": "chart",
        "iconImage": f"{_base(name)}/sidebar.png",
        "iconColor": rng.choice(("#2b7bb9", "#e0457b", "#3fa34d")),
    }


ROW_BUILDERS: dict[str, Callable[[random.Random, int, int], dict[str, Any]]] = {
    "integration_commands": command_row,
    "integration_enhancements": enhancement_row,
    "integration_link_resolvers": link_resolver_row,
    "integration_sidebars": sidebar_row,
}


def build_integrations(world: Builds) -> None:
    """Give `world` its integrations, from a random stream of their own (other ids stay)."""
    rng = world._rng("integrations")
    for resource, build in ROW_BUILDERS.items():
        collection = world._collection(resource)
        for index in range(ROWS_PER_SCALE.get(world.scale, 3)):
            created = world.now_ms - int(rng.uniform(0, SPAN_DAYS * DAY_MS))
            collection.add(build(rng, index, created), created)

"""The order of fields in the Airbyte spec, taken from the order they are declared in (Airbyte UIs sort by `order`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


def _declared_order(schema: dict[str, Any], model: type[BaseModel]) -> None:
    for position, name in enumerate(model.model_fields):
        schema["properties"][name].setdefault("order", position)


class SpecModel(BaseModel):
    """A config block shown in Airbyte's UI: its fields appear as declared, so nobody numbers them by hand."""

    model_config = ConfigDict(json_schema_extra=_declared_order)

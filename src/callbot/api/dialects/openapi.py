"""An OpenAPI 3.1 document for a vendor dialect, built from the dialect's Pydantic schemas (vendor field names
as aliases), so the documentation and the shapes it describes have one source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """One vendor operation: a path (and its aliases), its method, what it takes and what it answers."""

    path: str
    method: Literal["get", "post"]
    summary: str
    answer: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    tags: list[str] = field(default_factory=list)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.get("description", ""),
            "schema": {k: v for k, v in prop.items() if k not in ("description", "title")},
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def build_document(
    *,
    title: str,
    version: str,
    description: str,
    operations: list[Operation],
    security: dict[str, Any],
    extra_schemas: list[type[BaseModel]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        models.append((op.answer, "serialization"))
    models.extend((m, "serialization") for m in extra_schemas)
    unique = list(dict.fromkeys(models))
    refs, definitions = models_json_schema(unique, by_alias=True, ref_template=REF)
    paths: dict[str, Any] = {}
    for op in operations:
        spec: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.path.replace("/", "_").replace("{", "").replace("}", ""),
            "responses": {
                "200": {
                    "description": "The answer (errors too wear this envelope; see its `code`)",
                    "content": {"application/json": {"schema": refs[(op.answer, "serialization")]}},
                }
            },
        }
        if op.description or op.aliases:
            also = f"\n\nAlso served at: {', '.join(f'`{a}`' for a in op.aliases)}." if op.aliases else ""
            spec["description"] = op.description + also
        if op.tags:
            spec["tags"] = op.tags
        if op.query is not None:
            spec["parameters"] = _query_parameters(op.query)
        if op.body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        paths.setdefault(op.path, {})[op.method] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {}), "securitySchemes": security},
        "security": [{name: [] for name in security}],
    }

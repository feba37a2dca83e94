"""Request shapes: one declaration per body and parameter serves both checking and the OpenAPI document."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import falcon

# Amounts are integer minor units: this bound keeps them exact in JSON clients that use doubles.
MAX_INTEGER = 2**53 - 1

RATE_SCHEMA = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$",
               "description": "a rate as a decimal string, 0 to 1 (\"0.035\" is 3.5 %)"}


def invalid(description: str) -> falcon.HTTPError:
    return falcon.HTTPUnprocessableEntity(title="Invalid request", description=description)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Field:
    """One member of a JSON body.

    kind: integer, string, boolean, rate (decimal string), time (HH:MM), datetime (ISO 8601 with offset),
    tiers (a list of {min_origination, commission_rate}).
    """

    name: str
    kind: str
    description: str = ""
    required: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = -MAX_INTEGER
    maximum: int | None = MAX_INTEGER
    min_length: int | None = None
    max_length: int | None = None

    def check(self, value: Any) -> Any:
        """The value to hand to the use case, or a 422 saying what is wrong with it."""
        if value is None:
            if self.nullable:
                return None
            raise invalid(f"{self.name} cannot be null")
        check = getattr(self, f"_check_{self.kind}")
        return check(value)

    def _check_integer(self, value: Any) -> int:
        if not _is_int(value):
            raise invalid(f"{self.name} is an integer" + (" (minor units)" if "amount" in self.name else ""))
        if self.minimum is not None and value < self.minimum:
            raise invalid(f"{self.name} is at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise invalid(f"{self.name} is at most {self.maximum}")
        return value

    def _check_string(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(f"{self.name} is a string")
        if self.choices and value not in self.choices:
            raise invalid(f"{self.name} is one of {list(self.choices)}")
        if self.max_length is not None and len(value) > self.max_length:
            raise invalid(f"{self.name} is at most {self.max_length} characters")
        if self.min_length and len(value.strip()) < self.min_length:
            raise invalid(f"{self.name} cannot be empty" if self.min_length == 1
                          else f"{self.name} is at least {self.min_length} characters")
        return value

    def _check_boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise invalid(f"{self.name} is true or false")
        return value

    def _check_rate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(f"{self.name} is a rate as a decimal string, such as \"0.035\"")
        return value

    def _check_time(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(f"{self.name} is a time of day, HH:MM")
        return value

    def _check_datetime(self, value: Any) -> datetime:
        try:
            at = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise invalid(f"{self.name} is an ISO 8601 date-time with a UTC offset")
        return at

    def _check_tiers(self, value: Any) -> list[dict[str, Any]]:
        tier = Body("Tier", (Field("min_origination", "integer", required=True, minimum=0),
                             Field("commission_rate", "rate", required=True)))
        if not isinstance(value, list):
            raise invalid(f"{self.name} is a list of {{min_origination, commission_rate}}")
        return [tier.parse(t, where=f"{self.name}[{i}]") for i, t in enumerate(value)]

    def json_schema(self) -> dict[str, Any]:
        schema = self._base_schema()
        if self.description:
            schema["description"] = self.description
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema

    def _base_schema(self) -> dict[str, Any]:
        if self.kind == "integer":
            return {"type": "integer", **({"minimum": self.minimum} if self.minimum is not None else {}),
                    **({"maximum": self.maximum} if self.maximum is not None else {})}
        if self.kind == "string":
            return {"type": "string", **({"enum": list(self.choices)} if self.choices else {}),
                    **({"minLength": self.min_length} if self.min_length else {}),
                    **({"maxLength": self.max_length} if self.max_length else {})}
        if self.kind == "boolean":
            return {"type": "boolean"}
        if self.kind == "rate":
            return dict(RATE_SCHEMA)
        if self.kind == "time":
            return {"type": "string", "pattern": r"^[0-9]{2}:[0-9]{2}$"}
        if self.kind == "datetime":
            return {"type": "string", "format": "date-time"}
        return {"type": "array", "items": {"type": "object", "required": ["min_origination", "commission_rate"],
                                           "additionalProperties": False,
                                           "properties": {"min_origination": {"type": "integer", "minimum": 0},
                                                          "commission_rate": dict(RATE_SCHEMA)}}}


@dataclass(frozen=True)
class Body:
    """A JSON object body: its fields; unknown members are refused so that a typo is not silently ignored."""

    name: str
    fields: tuple[Field, ...]
    at_least_one: bool = False

    def parse(self, raw: Any, where: str = "the body") -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise invalid(f"{where} is a JSON object")
        known = {f.name: f for f in self.fields}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise invalid(f"unknown field(s) in {where}: {', '.join(unknown)}; allowed: {', '.join(known)}")
        missing = [f.name for f in self.fields if f.required and f.name not in raw]
        if missing:
            raise invalid(f"missing field(s) in {where}: {', '.join(missing)}")
        if self.at_least_one and not raw:
            raise invalid(f"{where} names at least one field to change")
        return {name: known[name].check(value) for name, value in raw.items()}

    def as_patch(self, name: str, without: tuple[str, ...] = ()) -> Body:
        """The same fields, all optional, at least one given; ``without`` the ones that cannot change."""
        fields = tuple(dataclasses.replace(f, required=False) for f in self.fields if f.name not in without)
        return Body(name, fields, at_least_one=True)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                  "properties": {f.name: f.json_schema() for f in self.fields}}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        if self.at_least_one:
            schema["minProperties"] = 1
        return schema


@dataclass(frozen=True)
class Param:
    """A query or header parameter."""

    name: str
    kind: str  # integer or string
    description: str = ""
    location: str = "query"
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    default: Any = None

    def read(self, req: falcon.Request) -> Any:
        raw = req.get_header(self.name) if self.location == "header" else req.get_param(self.name)
        if raw is None or raw == "":
            return self.default
        if self.kind == "integer":
            return self._integer(raw)
        if self.choices and raw not in self.choices:
            raise invalid(f"{self.name} is one of {list(self.choices)}")
        if self.max_length is not None and len(raw) > self.max_length:
            raise invalid(f"{self.name} is at most {self.max_length} characters")
        return raw

    def _integer(self, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"{self.name} is an integer") from None
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise invalid(f"{self.name} is between {self.minimum} and {self.maximum}")
        return value

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind}
        for key, value in (("enum", list(self.choices) or None), ("minimum", self.minimum),
                           ("maximum", self.maximum), ("maxLength", self.max_length), ("default", self.default)):
            if value is not None:
                schema[key] = value
        return {"name": self.name, "in": self.location, "required": False, "description": self.description,
                "schema": schema}

"""Request shapes: one declaration per body and parameter serves both checking and the OpenAPI document,
so that what the schema allows is what the server accepts, and the reverse."""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import falcon

from domain.money import MAX_MINOR

# Amounts are integer minor units within the domain's one bound (exact in JSON clients that use doubles);
# every other integer is held to it too.
MAX_INTEGER = MAX_MINOR
# Ids are BIGINT: a path or body id beyond this can name nothing.
MAX_ID = 2**63 - 1

RATE_PATTERN = r"^(0(\.[0-9]{1,12})?|1(\.0{1,12})?)$"
RATE_SCHEMA = {"type": "string", "pattern": RATE_PATTERN, "maxLength": 14,
               "description": "a rate as a decimal string from 0 to 1, at most 12 decimals (\"0.035\" is 3.5 %)"}
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# At least one character that is not white space, with white space as JSON Schema (ECMA-262) counts it,
# so that the schema and this server agree on every character (Python's \s also takes \x1c-\x1f).
NON_BLANK = r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
# Text from clients is shown in operators' terminals and pages: no control character (C0, DEL, C1) gets in.
CONTROL = r"\x00-\x1f\x7f-\x9f"
PLAIN_TEXT = rf"^[^{CONTROL}]*$"
PLAIN_TEXT_HINT = "holds no control characters (U+0000 to U+001F, U+007F to U+009F)"
# A name: plain text with at least one character that is neither white space nor a control character.
NAME = rf"^[^{CONTROL}]*[^{CONTROL} \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff][^{CONTROL}]*$"
NAME_HINT = "cannot be blank and holds no control characters (U+0000 to U+001F, U+007F to U+009F)"


def invalid(description: str) -> falcon.HTTPError:
    return falcon.HTTPUnprocessableEntity(title="Invalid request", description=description)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the pattern as JSON Schema reads it (ECMA-262): there ``$`` is the end of the
    text, where Python's would also take a last newline before it."""
    return _as_python(pattern).search(value) is not None


@functools.lru_cache(maxsize=None)
def _as_python(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


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
    max_length: int | None = None
    pattern: str | None = None
    pattern_hint: str = ""  # how the error message describes the pattern
    format: str | None = None  # documents a rule a pattern cannot say (a CLABE's check digit)
    not_zero: bool = False
    ref: str | None = None  # a component schema that spells the choices once (a long enum)

    def check(self, value: Any) -> Any:
        """The value to hand to the use case, or a 422 saying what is wrong with it."""
        if value is None:
            if self.nullable:
                return None
            raise invalid(f"{self.name} cannot be null")
        check = getattr(self, f"_check_{self.kind}")
        return check(value)

    def _check_integer(self, value: Any) -> int:
        # JSON Schema counts 395.0 as an integer; a float is taken only where it is exactly one.
        if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INTEGER:
            value = int(value)
        if not _is_int(value):
            raise invalid(f"{self.name} is an integer" + (" (minor units)" if "amount" in self.name else ""))
        if self.minimum is not None and value < self.minimum:
            raise invalid(f"{self.name} is at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise invalid(f"{self.name} is at most {self.maximum}")
        if self.not_zero and value == 0:
            raise invalid(f"{self.name} cannot be zero")
        return int(value)

    def _check_string(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(f"{self.name} is a string")
        if self.choices and value not in self.choices:
            raise invalid(f"{self.name} is one of {list(self.choices)}" if len(self.choices) <= 20
                          else f"{self.name} {value[:64]!r} is not one of the {self.ref or 'allowed'} values")
        if self.max_length is not None and len(value) > self.max_length:
            raise invalid(f"{self.name} is at most {self.max_length} characters")
        if self.pattern and not _matches(self.pattern, value):
            raise invalid(f"{self.name} {self.pattern_hint or 'does not match ' + self.pattern}")
        return value

    def _check_decimal(self, value: Any) -> str:
        """An amount in major units, as a decimal string or a JSON number read exactly (never a float);
        kept as the text of its decimal, to be read by the money rules."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif isinstance(value, Decimal):
            value = format(value, "f")  # fixed point: 1E+3 is 1000
        if not isinstance(value, str):
            raise invalid(f"{self.name} is a decimal amount, as a string (\"850.50\") or a number (850.50)")
        return self._check_string(value)

    def _check_notes(self, value: Any) -> Any:
        """Text, or an object of texts (the seed's ``{"branch": ..., "name": ...}``)."""
        if isinstance(value, dict) and len(value) <= MAX_NOTES and all(
                isinstance(v, str) and len(v) <= NOTE_LENGTH for v in value.values()):
            return value
        if isinstance(value, str) and len(value) <= NOTE_LENGTH:
            return value
        raise invalid(f"{self.name} is a text or an object of at most {MAX_NOTES} texts, each at most {NOTE_LENGTH} "
                      "characters")

    def _check_code(self, value: Any) -> str:
        """A code given as text or as a number (STP's return causes come either way); kept as text."""
        if _is_int(value) and abs(value) <= MAX_ID:
            return str(value)
        return self._check_string(value)

    def _check_boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise invalid(f"{self.name} is true or false")
        return value

    def _check_rate(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > 14 or not _matches(RATE_PATTERN, value):
            raise invalid(f"{self.name} is a rate from 0 to 1 as a decimal string with at most 12 decimals, "
                          "such as \"0.035\"")
        return value

    def _check_time(self, value: Any) -> str:
        if not isinstance(value, str) or not _matches(TIME_PATTERN, value):
            raise invalid(f"{self.name} is a time of day, HH:MM (00:00 to 23:59)")
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
        if not isinstance(value, list):
            raise invalid(f"{self.name} is a list of {{min_origination, commission_rate}}")
        if len(value) > MAX_TIERS:
            raise invalid(f"{self.name} has at most {MAX_TIERS} tiers")
        return [TIER.parse(t, where=f"{self.name}[{i}]") for i, t in enumerate(value)]

    def _check_transfers(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            raise invalid(f"{self.name} is a non-empty list of {{account, amount, currency, notes}}")
        if len(value) > MAX_ROUTE_PARTS:
            raise invalid(f"{self.name} has at most {MAX_ROUTE_PARTS} parts")
        return [ROUTE_PART.parse(t, where=f"{self.name}[{i}]") for i, t in enumerate(value)]

    def json_schema(self) -> dict[str, Any]:
        schema = {"$ref": f"#/components/schemas/{self.ref}"} if self.ref else self._base_schema()
        if self.description:
            schema["description"] = self.description
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema

    def _base_schema(self) -> dict[str, Any]:
        if self.kind == "integer":
            schema: dict[str, Any] = {"type": "integer"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
            if self.not_zero:
                schema["not"] = {"const": 0}
            return schema
        if self.kind == "string":
            schema = {"type": "string"}
            if self.choices:
                schema["enum"] = list(self.choices)
            if self.max_length:
                schema["maxLength"] = self.max_length
            if self.pattern:
                schema["pattern"] = self.pattern
            if self.format:
                schema["format"] = self.format
            return schema
        if self.kind == "boolean":
            return {"type": "boolean"}
        if self.kind == "code":
            text: dict[str, Any] = {"type": "string", **({"maxLength": self.max_length} if self.max_length else {})}
            return {"anyOf": [text, {"type": "integer", "minimum": -MAX_ID, "maximum": MAX_ID}]}
        if self.kind == "rate":
            return dict(RATE_SCHEMA)
        if self.kind == "time":
            return {"type": "string", "pattern": TIME_PATTERN}
        if self.kind == "datetime":
            return {"type": "string", "format": "date-time"}
        if self.kind == "transfers":
            return {"type": "array", "minItems": 1, "maxItems": MAX_ROUTE_PARTS, "items": ROUTE_PART.json_schema()}
        if self.kind == "decimal":
            return {"anyOf": [{"type": "string", "maxLength": self.max_length, "pattern": self.pattern},
                              {"type": "number", "minimum": 0, "exclusiveMaximum": DECIMAL_BOUND}]}
        if self.kind == "notes":
            text = {"type": "string", "maxLength": NOTE_LENGTH}
            return {"anyOf": [text, {"type": "object", "maxProperties": MAX_NOTES, "additionalProperties": text}]}
        return {"type": "array", "maxItems": MAX_TIERS, "items": TIER.json_schema()}


EXTRA_MEMBERS = 64
EXTRA_TEXT = 1024
EXTRA_SCHEMA = {"anyOf": [{"type": "string", "maxLength": EXTRA_TEXT},
                          {"type": "number", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER}, {"type": "boolean"},
                          {"type": "null"}]}


def _plain(value: Any) -> bool:
    """A value a flat record can keep: short text, a finite number, true/false or null."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        return len(value) <= EXTRA_TEXT
    if isinstance(value, (int, float)):
        # NaN is not equal to itself; a number beyond 2^53 - 1 would come back inexact to JavaScript
        return value == value and abs(value) <= MAX_INTEGER
    return False


@dataclass(frozen=True)
class Body:
    """A JSON object body: its fields. Unknown members are refused, so that a typo is not silently
    ignored, unless ``extras``: then they are kept when they are plain values (a bank's callback
    may grow fields we do not read)."""

    name: str
    fields: tuple[Field, ...]
    at_least_one: bool = False
    extras: bool = False
    all_of: tuple[dict[str, Any], ...] = ()  # rules between fields, for the schema (the use case checks them)

    def parse(self, raw: Any, where: str = "the body") -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise invalid(f"{where} is a JSON object")
        known = {f.name: f for f in self.fields}
        unknown = sorted(set(raw) - set(known))
        if unknown and not self.extras:
            raise invalid(f"unknown field(s) in {where}: {', '.join(unknown)[:200]}; allowed: {', '.join(known)}")
        if unknown:
            if len(raw) > EXTRA_MEMBERS:
                raise invalid(f"{where} has more than {EXTRA_MEMBERS} members")
            bad = [name for name in unknown if not _plain(raw[name])]
            if bad:
                raise invalid(f"{', '.join(bad)[:200]}: extra members are plain values (text up to "
                              f"{EXTRA_TEXT} characters, numbers, true/false, null)")
        missing = [f.name for f in self.fields if f.required and f.name not in raw]
        if missing:
            raise invalid(f"missing field(s) in {where}: {', '.join(missing)}")
        if self.at_least_one and not raw:
            raise invalid(f"{where} names at least one field to change")
        return {name: known[name].check(value) if name in known else value for name, value in raw.items()}

    def as_patch(self, name: str, without: tuple[str, ...] = ()) -> Body:
        """The same fields, all optional, at least one given; ``without`` the ones that cannot change."""
        fields = tuple(dataclasses.replace(f, required=False) for f in self.fields if f.name not in without)
        return Body(name, fields, at_least_one=True)

    def refers_to_ids(self) -> bool:
        """A body naming another resource by id (a store_id) can answer 404 when there is none."""
        return any(f.name.endswith("_id") for f in self.fields)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "additionalProperties": EXTRA_SCHEMA if self.extras else False,
                                  "properties": {f.name: f.json_schema() for f in self.fields}}
        if self.extras:
            schema["maxProperties"] = EXTRA_MEMBERS
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        if self.at_least_one:
            schema["minProperties"] = 1
        if self.all_of:
            schema["allOf"] = list(self.all_of)
        return schema


@dataclass(frozen=True)
class ObjectBody(Body):
    """A JSON object whose members the use case checks itself (a tenant's stage keys, nested or dotted):
    the schema can say only that it is an object, with at most ``max_members`` members."""

    max_members: int = 64

    def parse(self, raw: Any, where: str = "the body") -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise invalid(f"{where} is a JSON object")
        if len(raw) > self.max_members:
            raise invalid(f"{where} has more than {self.max_members} members")
        return dict(raw)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "maxProperties": self.max_members}


MAX_TIERS = 20
TIER = Body("Tier", (Field("min_origination", "integer", required=True, minimum=0),
                     Field("commission_rate", "rate", required=True)))
MAX_ROUTE_PARTS = 1000
DECIMAL_AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,4})?$"
DECIMAL_BOUND = 10**15  # above the pattern's largest (15 digits): a number is below it
MAX_NOTES, NOTE_LENGTH = 16, 255


def route_amount(description: str) -> Field:
    """An amount of a payment route: a decimal string, or a JSON number as the seed writes it (read exactly)."""
    return Field("amount", "decimal", description, required=True, max_length=32, pattern=DECIMAL_AMOUNT,
                 pattern_hint="is a decimal amount such as 850.50, with at most 15 digits and 4 decimals")


ROUTE_PART = Body("RoutePart", (
    Field("account", "string", "the payee's identifier (a wallet, a CLABE, an MSISDN)", required=True, max_length=64,
          pattern=NAME, pattern_hint=NAME_HINT),
    route_amount("a decimal in major units"),
    Field("currency", "string", "ISO 4217, the route's own", required=True, max_length=3),
    Field("notes", "notes", "shown to the payee: a text, or an object of texts whose name is the payee's name "
          "(the note a SPEI order carries)"),
))


@dataclass(frozen=True)
class Param:
    """A query, header or path parameter. Given empty, or more than once, it is a 422: the schema
    says what one value looks like, and neither is one."""

    name: str
    kind: str  # integer or string
    description: str = ""
    location: str = "query"
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_hint: str = ""
    default: Any = None
    format: str | None = None  # date-time: the value is read as an RFC 3339 time
    required: bool = False  # absent, ``read`` answers 422 (responders that answer otherwise read it themselves)
    empty_is_absent: bool = False  # given empty, read as absent (a client that sends the header always)

    def read(self, req: falcon.Request) -> Any:
        if self.location == "header":
            raw = req.get_header(self.name)
        else:
            given = req.params.get(self.name)
            if isinstance(given, list):
                raise invalid(f"{self.name} is given more than once")
            raw = given
        if raw is None:
            if self.required:
                raise invalid(f"{self.name} is required")
            return self.default
        if raw == "" and self.empty_is_absent and not self.required:
            return self.default
        if raw == "":
            raise invalid(f"{self.name} is empty; leave it out for the default")
        return self.value(raw)

    def value(self, raw: str) -> Any:
        """The checked value of one raw text."""
        if self.kind == "integer":
            return self._integer(raw)
        if self.choices and raw not in self.choices:
            raise invalid(f"{self.name} is one of {list(self.choices)}")
        if self.max_length is not None and len(raw) > self.max_length:
            raise invalid(f"{self.name} is at most {self.max_length} characters")
        if self.pattern and not _matches(self.pattern, raw):
            raise invalid(f"{self.name} {self.pattern_hint or 'does not match ' + self.pattern}")
        if self.format == "date-time":
            return rfc3339(raw, self.name)
        if self.format == "date":
            try:
                date.fromisoformat(raw)
            except ValueError:
                raise invalid(f"{self.name}: {raw} is not a day of the calendar") from None
        return raw

    def _integer(self, raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,19}", raw):
            raise invalid(f"{self.name} is an integer")
        value = int(raw)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise invalid(f"{self.name} is between {self.minimum} and {self.maximum}")
        return value

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind}
        for key, value in (("enum", list(self.choices) or None), ("minimum", self.minimum),
                           ("maximum", self.maximum), ("maxLength", self.max_length), ("pattern", self.pattern),
                           ("format", self.format), ("default", self.default)):
            if value is not None:
                schema[key] = value
        if self.kind == "string" and not self.choices and not self.empty_is_absent:
            schema.setdefault("minLength", 1)
        return {"name": self.name, "in": self.location, "required": self.location == "path" or self.required,
                "description": self.description, "schema": schema}


RFC3339 = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
                     r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")


def rfc3339(text: str, name: str) -> datetime:
    """An RFC 3339 date-time (what OpenAPI's ``date-time`` means), as an aware datetime. A leap second
    reads as :59; year 0000, which Python cannot hold, as the earliest time there is."""
    match = RFC3339.match(text)
    if match is None:
        raise invalid(f"{name} is an RFC 3339 date-time such as 2026-11-24T08:00:00-06:00")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8).upper()
    try:
        zone = timezone.utc if offset == "Z" else timezone(
            (1 if offset[0] == "+" else -1) * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        micro = int((fraction or ".0")[1:7].ljust(6, "0"))
        if year == 0:
            return datetime.min.replace(tzinfo=timezone.utc)
        return datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=zone)
    except ValueError:
        raise invalid(f"{name}: {text} is not a time that exists") from None

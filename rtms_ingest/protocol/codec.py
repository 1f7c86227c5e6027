"""The codec under rtms_ingest.protocol: typed reads of a frame's JSON and the field codec.

Every message and nested part is a dataclass; its fields' type hints decide how each field is
read and written, so the message classes in messages.py stay declarations.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, fields
from types import UnionType
from typing import Any, ClassVar, NoReturn, Self, TypeAlias, Union, cast, get_args, get_origin
from typing import get_type_hints as _get_type_hints

from rtms_ingest.protocol.enums import MsgType


class ProtocolError(ValueError):
    """A frame that is not a valid RTMS message: the only exception that parsing raises."""

    def __init__(self, reason: str, msg_type: int | None = None) -> None:
        super().__init__(reason if msg_type is None else f"msg_type {msg_type}: {reason}")
        self.reason = reason
        self.msg_type = msg_type

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.msg_type))


# ---------------------------------------------------------------------------------------------
# Reading fields of a parsed frame

_JSON_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}


def _describe(value: object) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


class _Fields:
    """Typed reads from one JSON object of a frame; every failure is a ProtocolError.

    Readers take (key, required) and return None for an absent or null optional field.
    """

    __slots__ = ("_data", "_path", "msg_type")

    def __init__(self, data: object, msg_type: int | None, path: str = "") -> None:
        if not isinstance(data, Mapping):
            where = path.rstrip(".") or "message"
            raise ProtocolError(f"{where}: expected an object, got {_describe(data)}", msg_type)
        self._data: Mapping[Any, Any] = data
        self._path = path
        self.msg_type = msg_type

    @classmethod
    def message(cls, data: object, msg_type: MsgType) -> _Fields:
        """Fields of a whole message whose msg_type, if given, must be `msg_type`."""
        f = cls(data, int(msg_type))
        found = f._data.get("msg_type", msg_type)
        if isinstance(found, bool) or not isinstance(found, int) or found != msg_type:
            f.fail("msg_type", f"expected {int(msg_type)}, got {found!r}")
        return f

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ProtocolError(f"{self._path}{key}: {problem}", self.msg_type)

    def typed(self, key: str, kind: type, required: bool) -> Any:
        value = self._data.get(key)
        if value is None:
            if required:
                self.fail(key, "missing required field")
            return None
        # bool is an int subclass; JSON true must never pass for a number, nor 1 for true.
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            self.fail(key, f"expected {_JSON_NAMES[kind]}, got {_describe(value)}")
        # int() turns enum members from a caller-built dict into the plain ints parsing promises.
        return int(cast(int, value)) if kind is int else value

    def raw(self, key: str, required: bool = False) -> Any:
        value = self._data.get(key)
        if value is None and required:
            self.fail(key, "missing required field")
        return value

    def json_object(self, key: str, required: bool) -> dict[str, Any] | None:
        value = self.typed(key, dict, required)
        return None if value is None else dict(value)

    def str_dict(self, key: str, required: bool) -> dict[str, str] | None:
        value = self.json_object(key, required)
        for name, item in (value or {}).items():
            if not isinstance(item, str):
                self.fail(f"{key}.{name}", f"expected a string, got {_describe(item)}")
        return value

    def sub(self, key: str, required: bool) -> _Fields | None:
        value = self.typed(key, dict, required)
        return None if value is None else _Fields(value, self.msg_type, f"{self._path}{key}.")

    def subs(self, key: str, required: bool) -> list[_Fields] | None:
        items = self.typed(key, list, required)
        if items is None:
            return None
        path = f"{self._path}{key}"
        return [_Fields(item, self.msg_type, f"{path}[{i}].") for i, item in enumerate(items)]

    def base64(self, key: str, required: bool) -> bytes | None:
        text = self.typed(key, str, required)
        if text is None:
            return None
        # Video and share samples may carry a data-URI prefix; plain base64 never starts so.
        if text.startswith("data:"):
            _, marker, text = text.partition(";base64,")
            if not marker:
                self.fail(key, "data: URI without ;base64,")
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            self.fail(key, "invalid base64")

    def require_stream_owner(self) -> None:
        if all(self.typed(k, str, False) is None for k in _OWNER_KEYS):
            self.fail("meeting_uuid", "missing required field (or session_id or engagement_id)")


_OWNER_KEYS = ("meeting_uuid", "session_id", "engagement_id")


# ---------------------------------------------------------------------------------------------
# The codec shared by every message and part, driven by the dataclass fields and their types

_Reader: TypeAlias = Callable[[_Fields, str, bool], Any]
_Writer: TypeAlias = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _FieldCodec:
    name: str
    required: bool
    default: Any
    read: _Reader
    write: _Writer


def _plain(value: Any) -> Any:
    # Enum members become plain ints so that to_dict() output compares and dumps as numbers.
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _reader_writer(hint: Any) -> tuple[_Reader, _Writer]:
    """How to read and write a field of type `hint` (None already stripped from unions)."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return _Fields.raw, _plain
    if hint in (int, str, bool):
        return (lambda f, key, req: f.typed(key, hint, req)), _plain
    if hint is bytes:
        return _Fields.base64, lambda data: base64.b64encode(data).decode("ascii")
    if origin is dict:
        return (_Fields.str_dict if args[1] is str else _Fields.json_object), dict
    if isinstance(hint, type) and issubclass(hint, _Part):
        part = hint

        def read_part(f: _Fields, key: str, req: bool) -> Any:
            sub = f.sub(key, req)
            return None if sub is None else part._parse(sub)

        return read_part, lambda value: value.to_dict()
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]

        def read_parts(f: _Fields, key: str, req: bool) -> Any:
            subs = f.subs(key, req)
            return None if subs is None else tuple(item._parse(sub) for sub in subs)

        return read_parts, lambda values: [value.to_dict() for value in values]
    raise TypeError(f"no wire codec for {hint!r}")


_CODECS: dict[type, tuple[_FieldCodec, ...]] = {}


def _codecs(cls: type[_Part]) -> tuple[_FieldCodec, ...]:
    codecs = _CODECS.get(cls)
    if codecs is None:
        hints = _get_type_hints(cls)
        codecs = _CODECS[cls] = tuple(_field_codec(fld, hints[fld.name]) for fld in fields(cls))
    return codecs


def _field_codec(fld: Field[Any], hint: Any) -> _FieldCodec:
    if get_origin(hint) in (Union, UnionType):
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    read, write = _reader_writer(hint)
    required = fld.default is MISSING
    return _FieldCodec(fld.name, required, None if required else fld.default, read, write)


def _encode_fields(obj: _Part) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for codec in _codecs(type(obj)):
        value = getattr(obj, codec.name)
        # None is "absent"; so is an empty tuple whose default is empty (no participants).
        if value is None or (value == () and codec.default == ()):
            continue
        out[codec.name] = codec.write(value)
    return out


def _decode_fields(cls: type[_Part], f: _Fields, **parse_defaults: Any) -> dict[str, Any]:
    """Constructor arguments from `f`; `parse_defaults` make required fields optional."""
    values: dict[str, Any] = {}
    for codec in _codecs(cls):
        lenient = codec.name in parse_defaults
        value = codec.read(f, codec.name, codec.required and not lenient)
        if value is None:
            value = parse_defaults[codec.name] if lenient else codec.default
        values[codec.name] = value
    return values


class _Part:
    """Base of every object on the wire: a nested part, or a whole message (`_Message`)."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]  # set by @dataclass on every subclass

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, leaving out fields that are None."""
        return _encode_fields(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Parse the JSON object `d`; raises ProtocolError."""
        return cls._parse(_Fields(d, None))

    @classmethod
    def _parse(cls, f: _Fields) -> Self:
        return cls(**_decode_fields(cls, f))


class _Message(_Part):
    """Base of every message: a part that carries its `msg_type`."""

    __slots__ = ()
    MSG_TYPE: ClassVar[MsgType]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object with msg_type first, leaving out fields that are None."""
        return {"msg_type": int(self.MSG_TYPE), **_encode_fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Parse the JSON object `d` (its msg_type, if any, must match); raises ProtocolError."""
        return cls._parse(_Fields.message(d, cls.MSG_TYPE))

"""How values cross the bridge: JSON, plus tagged binary data, checked on the way out.

Wire format
-----------
A value travels as JSON text.  JSON has no bytes, so binary data is *tagged*: a ``bytes``
(or ``bytearray``/``memoryview``) becomes ``{"__asyncio_guest_bytes__": "<base64>"}`` and
a JS ``BigInt`` becomes ``{"__asyncio_guest_int__": "<decimal>"}``.  Tags are only looked
for inside an *envelope*, ``{"__asyncio_guest_tagged__": value}``, which the sender uses
only when the value holds at least one tag; so ordinary JSON never pays for a tree walk
on the receiving side, and a user's dict that happens to use a tag name as a key is
only a problem (a clear ``TypeError``) inside a tagged value.

base64 inside the JSON costs a third more bytes, but both ends encode and decode it
natively (``binascii`` here, ``Uint8Array.fromBase64``/``toBase64`` or ``atob``/``btoa``
in the page), and the library's channel carries text only.

Nothing is dropped silently: a value that cannot cross (a set, an object, a NaN, a
dict with non-string keys, a cycle) raises ``TypeError`` naming where it sits, for
example ``"the result of f()[2]['data'] is a set, which cannot cross to JavaScript"``.
"""

from __future__ import annotations

import binascii
import json
import math
from typing import Any

__all__ = [
    "BYTES_KEY",
    "ENVELOPE_KEY",
    "INT_KEY",
    "STREAM_KEY",
    "decode",
    "encode",
]

#: Key of a tagged value's envelope.
ENVELOPE_KEY = "__asyncio_guest_tagged__"
#: Tag of binary data (base64 text).
BYTES_KEY = "__asyncio_guest_bytes__"
#: Tag of a JS BigInt (decimal text), decoded to a Python ``int``.
INT_KEY = "__asyncio_guest_int__"
#: Tag of a stream handle in a call's result (the stream's id).
STREAM_KEY = "__asyncio_guest_stream__"

_TAGS = frozenset({BYTES_KEY, INT_KEY, STREAM_KEY, ENVELOPE_KEY})
_BINARY = (bytes, bytearray, memoryview)


def _tag_bytes(value: bytes | bytearray | memoryview) -> dict[str, str]:
    if isinstance(value, memoryview):
        value = value.cast("B") if value.c_contiguous else value.tobytes()
    return {BYTES_KEY: binascii.b2a_base64(value, newline=False).decode("ascii")}


def _cannot(where: str, value: Any, why: str = "") -> TypeError:
    return TypeError(
        f"{where} is {_describe(value)}, which cannot cross to JavaScript{why}; "
        "send JSON types (dict with str keys, list, tuple, str, int, float, bool, None) "
        "or bytes"
    )


def _describe(value: Any) -> str:
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def _json_key(key: Any, where: str) -> str:
    """A dict key as JSON text, exactly as ``json.dumps`` converts it (so both paths agree)."""
    if isinstance(key, str):
        return key
    if isinstance(key, (bool, int, float)) or key is None:
        if isinstance(key, float) and not math.isfinite(key):
            raise TypeError(f"{where} has the key {key!r}, which has no JSON form")
        return json.dumps(key)
    raise TypeError(
        f"{where} has a key {key!r} of type {type(key).__name__}; "
        "only str, int, float, bool or None keys can cross to JavaScript"
    )


def _tagged(value: Any, where: str, active: list[int]) -> Any:
    """``value`` with bytes tagged; raises ``TypeError`` for what JSON cannot carry."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)  # an IntEnum or a bool subclass becomes its number
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _cannot(where, value, f" ({value!r} has no JSON form)")
        return value
    if isinstance(value, _BINARY):
        return _tag_bytes(value)
    if isinstance(value, (list, tuple, dict)):
        if id(value) in active:
            raise TypeError(f"{where} contains itself (a cycle), which cannot cross to JavaScript")
        active.append(id(value))
        try:
            if isinstance(value, dict):
                out: dict[str, Any] = {}
                for raw_key, item in value.items():
                    key = _json_key(raw_key, where)
                    if key in _TAGS:
                        raise TypeError(f"{where} uses the reserved key {key!r}")
                    out[key] = _tagged(item, f"{where}[{key!r}]", active)
                return out
            return [_tagged(item, f"{where}[{i}]", active) for i, item in enumerate(value)]
        finally:
            active.pop()
    raise _cannot(where, value)


def encode(value: Any, where: str) -> str:
    """JSON text of ``value`` for the page; ``where`` names it in error messages.

    Plain JSON values take json's fast path; anything holding binary data is tagged and
    wrapped in the envelope.  Raises ``TypeError`` (naming the place inside ``value``)
    for what cannot cross.
    """
    try:
        # allow_nan=False: JSON.parse in the page rejects NaN/Infinity.
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        pass  # bytes somewhere, or a real problem: the careful walk says which
    tagged = _tagged(value, where, [])
    return json.dumps({ENVELOPE_KEY: tagged}, allow_nan=False, separators=(",", ":"))


def encode_stream(stream_id: str) -> str:
    """The result that tells the page a call returned a stream."""
    return json.dumps({ENVELOPE_KEY: {STREAM_KEY: stream_id}})


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            if BYTES_KEY in value:
                return binascii.a2b_base64(value[BYTES_KEY])
            if INT_KEY in value:
                return int(value[INT_KEY])
        return {key: _untag(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    """A value parsed from the page's JSON, with its tags (if enveloped) turned back."""
    if isinstance(value, dict) and len(value) == 1 and ENVELOPE_KEY in value:
        return _untag(value[ENVELOPE_KEY])
    return value

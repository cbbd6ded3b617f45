"""Recording a graded function's outputs so that they can be judged outside the kernel.

The hidden test cell calls the student's function on every case and shows the outputs
as one display output of MIME type ``application/vnd.emlab.record+json``, stored in the
autograded notebook. The judge, a separate trusted process, decodes them with
:func:`decode` (numeric arrays only, never pickle) and compares them with the reference.

Nothing here knows an expected value: a record only says what the function returned.
"""

from __future__ import annotations

import base64
import math
from numbers import Number

import numpy as np

__all__ = ["MIME", "encode", "decode", "RecordError"]

MIME = "application/vnd.emlab.record+json"
MAX_ELEMENTS = 1_000_000
MAX_ITEMS = 16
_KINDS = set("biufc")  # bool, int, unsigned, float, complex: nothing that can hold objects


class RecordError(ValueError):
    """A record that is malformed or holds something other than numbers."""


def encode(value, depth: int = 0):
    """A JSON-safe description of a function's return value."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind not in _KINDS:
            return {"type": f"array of {arr.dtype}"}
        if arr.size > MAX_ELEMENTS:
            return {"type": f"array of {arr.size} elements (too large to record)"}
        arr = np.ascontiguousarray(arr)
        return {"array": arr.dtype.str, "shape": list(arr.shape),
                "data": base64.b64encode(arr.tobytes()).decode("ascii")}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, Number) and not isinstance(value, complex):
        f = float(value)
        return {"number": f if math.isfinite(f) else repr(f)}
    if isinstance(value, (tuple, list)) and depth < 2:
        items = list(value)[:MAX_ITEMS]
        return {"sequence": type(value).__name__, "length": len(value),
                "items": [encode(v, depth + 1) for v in items]}
    return {"type": type(value).__name__}


class Unrecorded:
    """Stands for a value that could not be recorded (an object, a dict, ...)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name}>"


def decode(obj, depth: int = 0):
    """The value :func:`encode` described: ndarray, float, bool, tuple/list or Unrecorded.
    Anything malformed raises RecordError, never another exception."""
    try:
        return _decode(obj, depth)
    except RecordError:
        raise
    except Exception as exc:  # a record is data from the kernel: any oddity is "malformed"
        raise RecordError(f"malformed record ({type(exc).__name__})") from None


def _decode(obj, depth: int = 0):
    if not isinstance(obj, dict) or depth > 3:
        raise RecordError("a record entry is not an object")
    if "array" in obj:
        try:
            dtype = np.dtype(str(obj["array"]))
            if not isinstance(obj["shape"], list) or not all(
                    isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_ELEMENTS for n in obj["shape"]):
                raise RecordError("an array record's shape is not a list of sizes")
            shape = tuple(obj["shape"])
            raw = base64.b64decode(str(obj["data"]).encode("ascii"), validate=True)
        except Exception as exc:
            raise RecordError(f"malformed array record: {exc}") from None
        if dtype.kind not in _KINDS or dtype.hasobject:
            raise RecordError(f"array record of dtype {dtype} is not numeric")
        if math.prod(shape) > MAX_ELEMENTS or len(raw) != math.prod(shape) * dtype.itemsize:
            raise RecordError("array record's size does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "bool" in obj:
        return bool(obj["bool"])
    if "number" in obj:
        v = obj["number"]
        if isinstance(v, str):
            if v not in {"nan", "inf", "-inf"}:
                raise RecordError(f"malformed number record {v!r}")
            return float(v)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise RecordError("malformed number record")
        return float(v)
    if "sequence" in obj:
        raw_items, length = obj.get("items", []), obj.get("length", None)
        if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS or \
                (length is not None and (not isinstance(length, int) or isinstance(length, bool))):
            raise RecordError("malformed sequence record")
        items = [_decode(v, depth + 1) for v in raw_items]
        if (len(items) if length is None else length) != len(items):
            items.append(Unrecorded("more items"))
        return tuple(items) if obj["sequence"] == "tuple" else items
    if "type" in obj:
        return Unrecorded(str(obj["type"])[:80])
    raise RecordError("unknown record entry")

"""What :func:`~leafml.frontends.tflite.read_tflite` returns: a checked view of a .tflite file.

A :class:`TfliteModel` lists every subgraph, tensor and operator of the file
as TFLite defines them, whether or not leafml can run them, so that a tool
can show a model it cannot import.  Everything in it has been validated:
indices are in range, constant data has the size its shape declares, and
the operators of each subgraph form a valid schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.errors import LeafmlError
from leafml.ir.graph import QuantParams


class TfliteFormatError(LeafmlError, ValueError):
    """A .tflite file cannot be read or breaks the TFLite schema; the message names where."""


@dataclass(frozen=True)
class ElementType:
    """One TFLite ``TensorType``: its name, numpy dtype (little-endian) and storage bits.

    ``dtype`` is None where numpy has no equivalent (INT4, BFLOAT16, ...);
    ``bits`` is None where elements have no fixed size (STRING, RESOURCE, VARIANT).
    """

    name: str
    dtype: np.dtype | None
    bits: int | None


def _element_types() -> dict[int, ElementType]:
    # .tflite data is little-endian whatever the host.
    numpy_names = {"FLOAT32": "<f4", "FLOAT16": "<f2", "FLOAT64": "<f8", "INT8": "i1", "UINT8": "u1", "INT16": "<i2", "UINT16": "<u2"}
    numpy_names |= {"INT32": "<i4", "UINT32": "<u4", "INT64": "<i8", "UINT64": "<u8", "BOOL": "?", "COMPLEX64": "<c8", "COMPLEX128": "<c16"}
    packed_bits = {"INT2": 2, "INT4": 4, "UINT4": 4, "FLOAT8_E4M3FN": 8, "FLOAT8_E5M2": 8, "BFLOAT16": 16}
    types = {}
    for name, code in vars(fb.TensorType).items():
        if name.startswith("_"):
            continue
        if name in numpy_names:
            dtype = np.dtype(numpy_names[name])
            types[code] = ElementType(name, dtype, dtype.itemsize * 8)
        else:
            types[code] = ElementType(name, None, packed_bits.get(name))
    return types


ELEMENT_TYPES: dict[int, ElementType] = _element_types()

BUILTIN_NAMES: dict[int, str] = {code: name for name, code in vars(fb.BuiltinOperator).items() if not name.startswith("_")}


@dataclass(frozen=True)
class TfliteTensor:
    """One tensor of a subgraph.

    ``data`` is the constant's contents as a read-only array of ``shape``
    (a view of the file's bytes), or, for types numpy lacks and for sparse
    tensors, the raw stored bytes as uint8; None for a tensor computed at
    run time.  ``quant_details`` names a QuantizationDetails kind (custom
    or blockwise quantization) that ``quant`` does not describe.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    type: ElementType
    buffer: int
    data: np.ndarray | None = None
    quant: QuantParams | None = None
    quant_details: str | None = None
    sparse: bool = False
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def label(self) -> str:
        """How error messages name the tensor: ``tensor 12 'conv/w'``."""
        return f"tensor {self.index} {self.name!r}"


@dataclass(frozen=True)
class TfliteOperator:
    """One operator application in execution order.

    ``name`` is the builtin operator's name (``"CONV_2D"``), or a CUSTOM
    operator's custom code.  ``inputs``/``outputs`` are tensor indices; an
    input of -1 is an omitted optional operand.  ``options`` is the decoded
    option table of the schema's object API (e.g. ``Conv2DOptionsT``), or
    None when the operator has none.
    """

    index: int
    name: str
    code: int
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Any = None
    custom_options: bytes | None = None

    @property
    def is_custom(self) -> bool:
        return self.code == fb.BuiltinOperator.CUSTOM

    @property
    def label(self) -> str:
        """How error messages name the operator: ``operator 3 (CONV_2D)``."""
        return f"operator {self.index} ({self.name})"


@dataclass(frozen=True)
class TfliteSubgraph:
    index: int
    name: str
    tensors: tuple[TfliteTensor, ...]
    operators: tuple[TfliteOperator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class TfliteModel:
    """A validated .tflite file; ``source`` names it in messages (a path, or ``<bytes>``)."""

    source: str
    version: int
    description: str
    subgraphs: tuple[TfliteSubgraph, ...]

    def operator_counts(self, subgraph: int = 0) -> dict[str, int]:
        """How often each operator name occurs in ``subgraph``, in first-use order."""
        counts: dict[str, int] = {}
        for op in self.subgraphs[subgraph].operators:
            counts[op.name] = counts.get(op.name, 0) + 1
        return counts

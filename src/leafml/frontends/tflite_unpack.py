"""The parse boundary: .tflite bytes -> the schema's object API (``fb.ModelT``), safely.

Decoding is done by ``schema_py_generated``, the FlatBuffers binding that
ships with LiteRT; leafml never interprets flatbuffer bytes itself.  That
binding trusts its input, so two things happen here first:

* The work its object API would do is bounded before it starts.  Tables in
  a flatbuffer refer to each other by offset, so a hostile file can make a
  thousand subgraphs share one table of a thousand tensors that share one
  long name: a few kilobytes that unpack into gigabytes.  In a file written
  by a converter every table and string is stored once, so the tables the
  unpacker will create are at most one per 4 bytes of file and the strings
  it will copy add up to at most the file's size.  :func:`_check_unpack_cost`
  walks the same vectors with the binding's lazy accessors (which copy
  nothing but strings) and refuses the file past those bounds.
* Any exception the binding raises on garbage (IndexError, struct.error,
  ValueError...) becomes one TfliteFormatError.
"""

from __future__ import annotations

import struct

from ai_edge_litert import schema_py_generated as fb

from leafml.frontends.tflite_model import TfliteFormatError

FILE_IDENTIFIER = b"TFL3"
# FlatBuffers address with 32-bit offsets; TFLite stores bigger models'
# weights outside the flatbuffer, which leafml does not read.
MAX_FILE_BYTES = 2**31 - 1

# What the FlatBuffers runtime raises when offsets or lengths point outside
# the buffer or at nonsense (struct.error for short reads, ValueError from
# numpy.frombuffer, TypeError/OverflowError from its number checks).
_DECODE_ERRORS = (IndexError, struct.error, ValueError, TypeError, OverflowError, RecursionError)


def unpack_model(data: bytes, source: str) -> fb.ModelT:
    """The object-API model of ``data``; TfliteFormatError for anything not a sound .tflite flatbuffer."""
    if len(data) < 8:
        raise TfliteFormatError(f"{source}: {len(data)} bytes is too short for a .tflite file (the header alone is 8 bytes); the file is empty or truncated")
    if len(data) > MAX_FILE_BYTES:
        raise TfliteFormatError(f"{source}: {len(data)} bytes exceeds the 2 GiB a flatbuffer can address; leafml reads models that fit in one flatbuffer")
    if data[4:8] != FILE_IDENTIFIER:
        raise TfliteFormatError(f"{source}: the file identifier is {bytes(data[4:8])!r}, not {FILE_IDENTIFIER!r}: this is not a TFLite flatbuffer (export the model as .tflite)")
    try:
        root = fb.Model.GetRootAs(data, 0)
        _check_unpack_cost(root, len(data), source)
        return fb.ModelT.InitFromObj(root)
    except _DECODE_ERRORS as e:
        detail = " ".join(str(e).split())[:120]
        raise TfliteFormatError(f"{source}: the flatbuffer is corrupt ({type(e).__name__}: {detail}); the file is truncated or damaged, export it again") from e


class _Budget:
    """Counts the tables and string bytes an unpack will create; refuses past the file's own bounds."""

    def __init__(self, file_bytes: int, source: str):
        self.tables_left = file_bytes // 4
        self.text_left = file_bytes
        self.source = source

    def tables(self, count: int) -> range:
        self.tables_left -= count
        if self.tables_left < 0:
            raise TfliteFormatError(f"{self.source}: the flatbuffer refers to more tables than the file can hold (shared or overlapping offsets); the file is corrupt or crafted")
        return range(count)

    def text(self, value: bytes | None) -> None:
        self.text_left -= len(value or b"")
        if self.text_left < 0:
            raise TfliteFormatError(f"{self.source}: the flatbuffer's strings add up to more than the file's size (shared or overlapping offsets); the file is corrupt or crafted")


# Option tables that hold strings, by (union accessor, union type): the table class and its string fields.
OPTION_STRINGS = {
    ("BuiltinOptions", fb.BuiltinOptions.VarHandleOptions): (fb.VarHandleOptions, ("Container", "SharedName")),
    ("BuiltinOptions2", fb.BuiltinOptions2.StablehloCustomCallOptions): (fb.StablehloCustomCallOptions, ("CallTargetName", "BackendConfig")),
    ("BuiltinOptions2", fb.BuiltinOptions2.StableHLOCompositeOptions): (fb.StableHLOCompositeOptions, ("Name",)),
}


def _option_strings(op: fb.Operator, budget: _Budget) -> None:
    for union in ("BuiltinOptions", "BuiltinOptions2"):
        kind = OPTION_STRINGS.get((union, getattr(op, union + "Type")()))
        table = getattr(op, union)()
        if kind is not None and table is not None:
            options = kind[0]()
            options.Init(table.Bytes, table.Pos)
            for field in kind[1]:
                budget.text(getattr(options, field)())


def _check_unpack_cost(model: fb.Model, file_bytes: int, source: str) -> None:
    """Visit every vector of tables and every string ``fb.ModelT`` unpacks, within a budget.

    The list mirrors the schema's nested tables: Model -> SubGraph ->
    Tensor (-> SparsityParameters -> DimensionMetadata, VariantSubType) and
    Operator (option tables with strings), and Model -> SignatureDef ->
    TensorMap.  Single nested tables and numeric vectors cost O(1) to
    unpack (numpy views), so only table vectors and strings are counted.
    """
    budget = _Budget(file_bytes, source)
    budget.text(model.Description())
    for i in budget.tables(model.OperatorCodesLength()):
        budget.text(model.OperatorCodes(i).CustomCode())
    for s in budget.tables(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        budget.text(subgraph.Name())
        for t in budget.tables(subgraph.TensorsLength()):
            tensor = subgraph.Tensors(t)
            budget.text(tensor.Name())
            sparsity = tensor.Sparsity()
            if sparsity is not None:
                budget.tables(sparsity.DimMetadataLength())
            budget.tables(tensor.VariantTensorsLength())
        for o in budget.tables(subgraph.OperatorsLength()):
            _option_strings(subgraph.Operators(o), budget)
    budget.tables(model.BuffersLength())
    for m in budget.tables(model.MetadataLength()):
        budget.text(model.Metadata(m).Name())
    for d in budget.tables(model.SignatureDefsLength()):
        signature = model.SignatureDefs(d)
        budget.text(signature.SignatureKey())
        for i in budget.tables(signature.InputsLength()):
            budget.text(signature.Inputs(i).Name())
        for i in budget.tables(signature.OutputsLength()):
            budget.text(signature.Outputs(i).Name())
    for g in budget.tables(model.ExternalBufferGroupsLength()):
        budget.text(model.ExternalBufferGroups(g).Name())
    for b in budget.tables(model.ExternalBuffersLength()):
        budget.text(model.ExternalBuffers(b).Packing())

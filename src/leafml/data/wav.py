"""WAV (RIFF/WAVE) decoding: PCM 8/16/24/32-bit and IEEE float 32/64-bit, any rate and channel count.

leafml reads the RIFF chunks itself rather than through the stdlib ``wave``
module, because ``wave`` (Python 3.11) refuses float and
WAVE_FORMAT_EXTENSIBLE files and silently returns fewer frames for a
truncated file, where a truncated clip must be reported, not stored short.

Samples are scaled to full scale [-1, 1): integer PCM is divided by
2^(bits-1) (8-bit PCM is unsigned with its zero at 128), float is kept as
written. The unit recorded for these axes is "FS" (full scale).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from leafml.data.recording import InputError, Recording, Sensor

__all__ = ["FULL_SCALE", "decode_wav"]

FULL_SCALE = "FS"
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def decode_wav(path: str | Path, data: bytes, channels: str) -> Recording:
    """Decode a WAV file's bytes into one recording of [frames, axes] in
    full scale; ``channels`` "mono" averages the channels into one axis
    ("audio"), "keep" gives one axis per channel ("audio0", "audio1", ...)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InputError(path, "not a WAV file (no RIFF/WAVE header)")
    fmt, frames = _chunks(path, data)
    tag, count, rate_hz, block_align, bits = fmt
    values = _samples(tag, bits, frames).reshape(-1, count)
    if values.shape[0] == 0:
        raise InputError(path, "the WAV file holds no audio frames")
    if count == 1 or channels == "mono":
        return Recording(values.mean(axis=1, keepdims=True), rate_hz, (Sensor("audio", FULL_SCALE),))
    return Recording(values, rate_hz, tuple(Sensor(f"audio{i}", FULL_SCALE) for i in range(count)))


def _chunks(path, data: bytes) -> tuple[tuple[int, int, int, int, int], bytes]:
    """The parsed ``fmt `` chunk and the raw ``data`` chunk."""
    fmt = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = data[offset + 8: offset + 8 + size]
        if chunk_id == b"fmt ":
            fmt = _format(path, body)
        elif chunk_id == b"data":
            if fmt is None:
                raise InputError(path, "the WAV data chunk comes before its fmt chunk")
            if len(body) < size:
                raise InputError(path, f"truncated: the data chunk declares {size} bytes but the file holds "
                                       f"{len(body)}")
            if size % fmt[3]:
                raise InputError(path, f"truncated: {size} data bytes is not a whole number of "
                                       f"{fmt[3]}-byte frames")
            return fmt, body
        # RIFF chunks are padded to an even size.
        offset += 8 + size + (size & 1)
    raise InputError(path, "truncated or incomplete: no data chunk" if fmt else "not a WAV file (no fmt chunk)")


def _format(path, body: bytes) -> tuple[int, int, int, int, int]:
    if len(body) < 16:
        raise InputError(path, f"corrupt fmt chunk ({len(body)} bytes, needs at least 16)")
    tag, count, rate_hz, _, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _EXTENSIBLE:
        if len(body) < 40:
            raise InputError(path, "corrupt WAVE_FORMAT_EXTENSIBLE fmt chunk (shorter than 40 bytes)")
        # The sub-format GUID starts with the plain format tag.
        tag = struct.unpack_from("<H", body, 24)[0]
    if count == 0 or rate_hz == 0:
        raise InputError(path, f"corrupt fmt chunk: {count} channels at {rate_hz} Hz")
    supported = {_PCM: (8, 16, 24, 32), _FLOAT: (32, 64)}
    if bits not in supported.get(tag, ()):
        kind = {_PCM: "PCM", _FLOAT: "float"}.get(tag, f"format tag {tag:#06x}")
        raise InputError(path, f"unsupported WAV encoding ({kind}, {bits} bits): convert it to 16-bit PCM "
                               "or 32-bit float")
    if block_align != count * bits // 8:
        raise InputError(path, f"corrupt fmt chunk: block align {block_align} bytes for {count} channels "
                               f"of {bits} bits")
    return tag, count, rate_hz, block_align, bits


def _samples(tag: int, bits: int, raw: bytes) -> np.ndarray:
    """Interleaved samples as float64 in full scale."""
    if tag == _FLOAT:
        return np.frombuffer(raw, dtype=f"<f{bits // 8}").astype(np.float64)
    if bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if bits == 24:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        # Put the three bytes in the top of an int32 so the sign comes along, then shift back.
        ints = (triples[:, 0] << 8 | triples[:, 1] << 16 | triples[:, 2] << 24) >> 8
    else:
        ints = np.frombuffer(raw, dtype=f"<i{bits // 8}")
    return ints.astype(np.float64) / float(1 << (bits - 1))

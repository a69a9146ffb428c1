"""int8 SOFTMAX: params, the numpy kernels, their C twins, and the two peer runtimes.

Each rounding mode has its own kernel, checked against the C twin built with
the host compiler and against its runtime on the same one-op .tflite model:
"double" (fixed point) against TFLM, "single" (float table) against LiteRT's
default resolver.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
from pathlib import Path

import numpy as np
import pytest

import leafml.codegen
from leafml.firmware import find_tool
from leafml.firmware.host import HOST_CFLAGS
from leafml.ir import Graph, GraphError, Node, OpType, QuantParams, Tensor
from leafml.ops import SoftmaxAttrs, get_op
from leafml.ops.softmax import SoftmaxParams, SoftmaxTableParams, run_float_table
from leafml.quant.fixedpoint import (
    INT32_MAX,
    exp_on_negative_values,
    get_reciprocal,
    saturating_rounding_multiply_by_pot,
)
from leafml.verify.peers import run_litert, run_tflm

SOFTMAX = get_op(OpType.SOFTMAX)
KERNELS = Path(leafml.codegen.__file__).parent / "kernels"
# Input scales from fine to coarse; 1000 drives beta * scale * 2**26 past
# the fixed-point multiplier's cap, 0.0625 * (1 + 2**-23) has an odd float32
# significand (a tie in the input rescale for odd differences).
SCALES = [1 / 16, 0.0625 * (1 + 2**-23), 0.1, 0.25, 0.5, 1.0, 2.0, 1000.0]
DEPTHS = [1, 10, 12, 100]


def softmax_graph(shape: tuple[int, ...], scale: float, zero_point: int = 0, beta: float = 1.0, out=(1 / 256, -128)) -> Graph:
    g = Graph()
    g.add_tensor(Tensor("x", shape, np.int8, quant=QuantParams(scale, zero_point)))
    g.add_tensor(Tensor("y", shape, np.int8, quant=QuantParams(*out)))
    g.nodes.append(Node(OpType.SOFTMAX, ["x"], ["y"], SoftmaxAttrs(beta)))
    g.inputs, g.outputs = ["x"], ["y"]
    return g


def run_numpy(g: Graph, x: np.ndarray, rounding: str) -> np.ndarray:
    node = g.nodes[0]
    return SOFTMAX.run_int8(g, node, SOFTMAX.prepare(g, node, rounding), [x], rounding)


def random_rows(rng: np.random.Generator, depth: int, count: int) -> np.ndarray:
    """``count`` int8 rows of ``depth``: uniform, narrow, all equal, and at the int8 bounds."""
    kinds = [
        lambda: rng.integers(-128, 128, depth),
        lambda: rng.integers(-4, 5, depth) + rng.integers(-120, 120),
        lambda: np.full(depth, rng.integers(-128, 128)),
        lambda: rng.choice([-128, 127], depth),
        lambda: np.where(rng.random(depth) < 0.2, 127, -128),
        lambda: np.where(np.arange(depth) == rng.integers(depth), rng.integers(-128, 128), -128),
    ]
    return np.stack([kinds[i % len(kinds)]() for i in range(count)]).astype(np.int8)


# -- prepare and check --------------------------------------------------------
def test_prepare_matches_tflite_scaling():
    # beta * scale * 2**26 = 2**22 exactly: significand 2**30, shift 23, and
    # diff_min = -floor(31 * 2**26 / 2**23).
    g = softmax_graph((1, 10), 1 / 16)
    assert SOFTMAX.prepare(g, g.nodes[0], "double") == SoftmaxParams(2**30, 23, -248)


def test_prepare_caps_the_multiplier():
    # PreprocessSoftmaxScaling caps at 2**31 - 1: only a difference of 0 survives.
    g = softmax_graph((1, 10), 1000.0)
    assert SOFTMAX.prepare(g, g.nodes[0], "double") == SoftmaxParams(2**31 - 1, 31, 0)


def test_single_prepare_is_litert_exp_table():
    # PopulateSoftmaxLookupTable: table[255 - d] = expf(float32(-scale * beta) * d).
    expf = ctypes.CDLL(ctypes.util.find_library("m")).expf
    expf.restype, expf.argtypes = ctypes.c_float, [ctypes.c_float]
    g = softmax_graph((1, 10), 0.1, beta=0.37)
    params = SOFTMAX.prepare(g, g.nodes[0], "single")
    assert isinstance(params, SoftmaxTableParams)
    assert (params.output_scale, params.output_zero_point) == (1 / 256, -128)
    scale = -np.float32(0.1) * np.float32(0.37)
    want = [expf(float(scale * np.float32(d))) for d in range(256)]
    assert params.table.dtype == np.float32 and params.table[::-1].tolist() == want
    assert params.table[255] == 1.0 and not params.table.flags.writeable


def test_beta_is_read_as_float32():
    # A .tflite file stores beta as float32; the params must come from that value.
    beta = 1.1
    g = softmax_graph((1, 10), 0.1, beta=beta)
    g32 = softmax_graph((1, 10), 0.1, beta=float(np.float32(beta)))
    assert SOFTMAX.prepare(g, g.nodes[0], "double") == SOFTMAX.prepare(g32, g32.nodes[0], "double")
    tables = [SOFTMAX.prepare(h, h.nodes[0], "single").table for h in (g, g32)]
    np.testing.assert_array_equal(*tables)


@pytest.mark.parametrize("out", [(1 / 128, -128), (1 / 256, 0), (1 / 255, -128)])
def test_output_quantization_is_enforced(out):
    with pytest.raises(GraphError, match="scale 1/256 and zero point -128"):
        softmax_graph((1, 10), 0.1, out=out).validate()


def test_input_scale_too_small_for_the_fixed_point_exp():
    with pytest.raises(GraphError, match="2\\*\\*-26"):
        softmax_graph((1, 10), 2.0**-27).validate()


def test_float_graph_skips_the_int8_checks():
    g = Graph()
    g.add_tensor(Tensor("x", (1, 4)))
    g.add_tensor(Tensor("y", (1, 4)))
    g.nodes.append(Node(OpType.SOFTMAX, ["x"], ["y"], SoftmaxAttrs()))
    g.inputs, g.outputs = ["x"], ["y"]
    g.validate()


# -- the fixed-point building blocks ------------------------------------------
def test_fixed_point_exp_is_accurate():
    a = -np.arange(0, 31 << 26, 9973, dtype=np.int64)  # Q5.26 from 0 down to -31
    exact = np.exp(a / 2.0**26) * 2.0**31
    assert exp_on_negative_values(a, 5)[0] == INT32_MAX
    assert np.max(np.abs(exp_on_negative_values(a, 5) - exact)) < 2**10  # 5e-7 of 1.0


def test_fixed_point_reciprocal_is_accurate():
    x = np.unique(np.geomspace(2**19, 2**28 - 1, 5000).astype(np.int64))  # Q12.19 in [1, 512)
    scale, bits = get_reciprocal(x, 12)
    assert np.max(np.abs(scale * 2.0**-31 * 2.0**-bits.astype(float) * x / 2.0**19 - 1)) < 1e-8


def test_saturating_left_shift():
    x = np.array([2**29, -(2**29), 2**29 - 1, -(2**29) + 1, 5])
    assert saturating_rounding_multiply_by_pot(x, 2).tolist() == [INT32_MAX, -(2**31), 2**31 - 4, -(2**31) + 4, 20]


# -- the numpy kernel ---------------------------------------------------------
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_int8_is_close_to_float_softmax(rounding):
    rng = np.random.default_rng(1)
    for scale in SCALES[:-1]:
        for depth in DEPTHS:
            g = softmax_graph((1, depth), scale)
            x = random_rows(rng, depth, 300)
            expected = SOFTMAX.run_float(g, g.nodes[0], [x.astype(np.float32) * np.float32(scale)]) * 256 - 128
            assert np.max(np.abs(run_numpy(g, x, rounding) - expected)) <= 1.0


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_outer_dimensions_are_rows(rounding):
    rng = np.random.default_rng(2)
    g = softmax_graph((2, 3, 4, 10), 0.25)
    x = rng.integers(-128, 128, (2, 3, 4, 10)).astype(np.int8)
    np.testing.assert_array_equal(run_numpy(g, x, rounding), run_numpy(g, x.reshape(-1, 10), rounding).reshape(x.shape))


def test_rounding_modes_differ_by_at_most_one_step():
    # Two approximations of one softmax: the fixed-point exp and reciprocal
    # against float32 ones.  They rarely disagree, and never by more.
    rng = np.random.default_rng(3)
    differing = total = 0
    for scale in [*SCALES, *(2.0 ** rng.uniform(-6, 4, 40))]:
        for beta in (1.0, 0.7):
            g = softmax_graph((1, 12), float(np.float32(scale)), beta=beta)
            x = random_rows(rng, 12, 600)
            diff = np.abs(run_numpy(g, x, "double").astype(int) - run_numpy(g, x, "single"))
            assert diff.max() <= 1
            differing, total = differing + np.count_nonzero(diff), total + diff.size
    assert differing < total / 1000


def edge_params(last_three: list[float]) -> SoftmaxTableParams:
    """Table params for exact float edge cases: ``last_three`` are the exps of differences 2, 1 and 0."""
    table = np.ones(256, np.float32)
    table[253:] = last_three
    return SoftmaxTableParams(table, 1 / 256, -128)


EDGE_CASES = [
    # The float32 sum 0.49999997 + 2.5 + 253 is 256, so 1 / (sum / 256) is 1
    # and the probabilities are the exps: roundf gives 0 for 0.49999997 (a
    # float32 p + 0.5f would give 1), 3 for the tie 2.5, 253 for 253.
    (edge_params([253.0, 2.5, np.nextafter(np.float32(0.5), np.float32(0))]), [[2, 1, 0]], [[-128, -125, 125]]),
    # 64 exps of 2**-24 after a 1.0 vanish one by one in row order (1 + 2**-24
    # rounds to 1), not when added pairwise like np.sum; the last probability
    # is then exactly 1.5, rounded to 2, instead of just below.
    (edge_params([2.0**-24, 1.5 / 254.5, 1.0]), [[2, *[0] * 64, 1]], [[126, *[-128] * 64, -126]]),
]


@pytest.mark.parametrize("params, row, output", EDGE_CASES)
def test_single_sums_in_row_order_and_rounds_like_roundf(params, row, output):
    assert run_float_table(params, np.array(row, np.int8)).tolist() == output


def test_long_rows_saturate_where_tflite_aborts():
    # 600 equal values: the sum of exps is 600 >= 512, where TFLite's output
    # shift would pass 31 (it aborts); every probability is 1/600 -> -128.
    g = softmax_graph((1, 600), 0.1)
    x = np.zeros((2, 600), np.int8)
    assert np.all(run_numpy(g, x, "double") == -128)
    # 511 equal values is the longest such row TFLite accepts.
    g = softmax_graph((1, 511), 0.1)
    assert np.all(run_numpy(g, np.zeros((1, 511), np.int8), "double") == -128 + 1)


# -- the C twin ---------------------------------------------------------------
HARNESS_C = r"""
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "round_half_even.h"
#include "fixedpoint.h"
#include "softmax.h"

/* stdin: cases, each a header then rows * depth int8; stdout: the outputs.
 * Header: int32 rows, depth, then input_multiplier, input_left_shift and
 * diff_min (fixed point) or zero_point, float output_scale, float table[256]. */
int main(void)
{
    int32_t h[5];
#if LEAFML_SINGLE_ROUNDING
    const size_t header = 3;
    float output_scale, table[256];
#else
    const size_t header = 5;
#endif
    while (fread(h, sizeof h[0], header, stdin) == header) {
        const size_t n = (size_t)h[0] * (size_t)h[1];
        int8_t *in = malloc(n);
        int8_t *out = malloc(n);
#if LEAFML_SINGLE_ROUNDING
        if (fread(&output_scale, sizeof output_scale, 1, stdin) != 1 || fread(table, sizeof table[0], 256, stdin) != 256) {
            return 1;
        }
#endif
        if (in == NULL || out == NULL || fread(in, 1, n, stdin) != n) {
            return 1;
        }
#if LEAFML_SINGLE_ROUNDING
        leafml_softmax_s8_table(in, out, h[0], h[1], table, output_scale, h[2]);
#else
        leafml_softmax_s8(in, out, h[0], h[1], h[2], h[3], h[4]);
#endif
        fwrite(out, 1, n, stdout);
        free(in);
        free(out);
    }
    return 0;
}
"""


def encode_case(params: SoftmaxParams | SoftmaxTableParams, x: np.ndarray) -> bytes:
    """One case for the harness: its header, then the rows."""
    if isinstance(params, SoftmaxTableParams):
        header = np.array([*x.shape, params.output_zero_point], np.int32).tobytes()
        header += np.float32(params.output_scale).tobytes() + params.table.tobytes()
    else:
        header = np.array([*x.shape, params.input_multiplier, params.input_left_shift, params.diff_min], np.int32).tobytes()
    return header + x.tobytes()


@pytest.fixture(scope="module")
def c_softmax(tmp_path_factory):
    """A function running the C kernel on a list of (params, rows) cases, per rounding mode."""
    work = tmp_path_factory.mktemp("softmax_c")
    (work / "harness.c").write_text(HARNESS_C)
    exes = {}
    for rounding, flag in (("double", 0), ("single", 1)):
        exes[rounding] = work / f"softmax_{rounding}"
        subprocess.run(
            [
                find_tool("cc"),
                *HOST_CFLAGS,
                "-pedantic",
                f"-DLEAFML_SINGLE_ROUNDING={flag}",
                f"-I{KERNELS}",
                str(work / "harness.c"),
                "-o",
                str(exes[rounding]),
            ],
            check=True,
            capture_output=True,
        )

    def run(rounding: str, cases: list[tuple[SoftmaxParams | SoftmaxTableParams, np.ndarray]]) -> list[np.ndarray]:
        stdin = b"".join(encode_case(p, x) for p, x in cases)
        stdout = subprocess.run([str(exes[rounding])], input=stdin, check=True, capture_output=True).stdout
        outputs, offset = [], 0
        for _, x in cases:
            outputs.append(np.frombuffer(stdout, np.int8, x.size, offset).reshape(x.shape))
            offset += x.size
        assert offset == len(stdout)
        return outputs

    return run


@pytest.mark.requires_tools("cc")
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_c_kernel_matches_numpy(c_softmax, rounding):
    rng = np.random.default_rng(4)
    cases, expected = [], []
    scales = [*SCALES, *(float(np.float32(s)) for s in 2.0 ** rng.uniform(-8, 6, 24))]
    for scale in scales:
        for depth in [*DEPTHS, 2, 3, 37]:
            for beta in (1.0, 0.5):
                g = softmax_graph((1, depth), scale, beta=beta)
                params = SOFTMAX.prepare(g, g.nodes[0], rounding)
                x = random_rows(rng, depth, 240)
                cases.append((params, x))
                expected.append(SOFTMAX.run_int8(g, g.nodes[0], params, [x], rounding))
    # Rows long enough to reach TFLite's sum limit (and, at 5000, int32's).
    for depth in (511, 512, 600, 5000):
        g = softmax_graph((1, depth), 0.05)
        params = SOFTMAX.prepare(g, g.nodes[0], rounding)
        x = random_rows(rng, depth, 12)
        cases.append((params, x))
        expected.append(SOFTMAX.run_int8(g, g.nodes[0], params, [x], rounding))
    for got, want in zip(c_softmax(rounding, cases), expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.requires_tools("cc")
def test_c_table_kernel_sums_in_row_order_and_rounds_like_roundf(c_softmax):
    got = c_softmax("single", [(params, np.array(row, np.int8)) for params, row, _ in EDGE_CASES])
    assert [x.tolist() for x in got] == [output for _, _, output in EDGE_CASES]


# -- the peers ------------------------------------------------------------------
def peer_cases(seed: int, scales=SCALES, depths=DEPTHS):
    """One-op models (three rows per sample, rank 3) with their inputs."""
    rng = np.random.default_rng(seed)
    for scale in scales:
        for depth in depths:
            for beta in (1.0, 0.37):
                g = softmax_graph((1, 3, depth), scale, zero_point=int(rng.integers(-20, 20)), beta=beta).validate()
                yield g, random_rows(rng, depth, 3 * 40).reshape(40, 3, depth)


def test_tflm_matches_double_rounding():
    for g, x in peer_cases(5):
        np.testing.assert_array_equal(run_tflm(g.to_tflite(), x), run_numpy(g, x, "double"))


def test_litert_default_resolver_matches_single_rounding():
    rng = np.random.default_rng(6)
    scales = [*SCALES, *(float(np.float32(s)) for s in 2.0 ** rng.uniform(-8, 6, 16))]
    # LiteRT's float-table kernel has no sum limit: long rows too.
    for g, x in peer_cases(7, scales, [*DEPTHS, 2, 37, 600]):
        np.testing.assert_array_equal(run_litert(g.to_tflite(), x), run_numpy(g, x, "single"))


def test_the_runtimes_disagree_and_each_mode_follows_its_own():
    # A row where LiteRT's float exp and TFLM's fixed-point one round apart.
    g = softmax_graph((1, 2), SCALES[1], beta=0.37)
    x = np.array([[94, -128]], np.int8)
    model = g.to_tflite()
    assert run_litert(model, x).tolist() == run_numpy(g, x, "single").tolist() == [[126, -126]]
    assert run_tflm(model, x).tolist() == run_numpy(g, x, "double").tolist() == [[127, -126]]

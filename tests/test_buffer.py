"""zygote_nb.buffer: writes, reads and copies against plain NumPy, np.stack and finite differences."""

import copy

import numpy
import pytest
from helpers import finite_difference_gradient

import zygote_nb.numpy as np
from zygote_nb import gradient, hessian, hessian_reverse
from zygote_nb.buffer import Buffer

WEIGHTS = numpy.arange(1.0, 13.0).reshape(4, 3) / 7


def vstack(xs):
    buf = Buffer(xs, len(xs), 5)
    for i in range(5):
        buf[:, i] = xs
    return copy.copy(buf)


def test_utilities_page_vstack_value_and_gradient():
    stacked = vstack(numpy.array([1, 2, 3]))
    numpy.testing.assert_array_equal(stacked, numpy.repeat([[1], [2], [3]], 5, axis=1))
    assert stacked.dtype.kind == "i"
    numpy.testing.assert_array_equal(gradient(lambda x: np.sum(vstack(x)), numpy.array([1, 2, 3]))[0],
                                     [5.0, 5.0, 5.0])


def every_kind_of_write(x):
    """Ints, slices, tuples, a boolean mask, an integer array with a repeat, overlaps, and reads."""
    buf = Buffer(x, 4, 3)
    buf[0] = x
    buf[1:3] = x * 2
    buf[numpy.array([True, False, True, False]), 1:] = np.sin(x[:2])
    buf[numpy.array([3, 3, 0])] = np.stack([x, x**2, x**3])
    buf[2, 2] = buf[1, 0] * buf[0, 1]
    buf[(slice(None), 0)] = buf[:, 0] + 1.0
    return buf.copy()


def every_kind_of_write_in_numpy(x):
    out = numpy.zeros((4, 3))
    out[0] = x
    out[1:3] = x * 2
    out[numpy.array([True, False, True, False]), 1:] = numpy.sin(x[:2])
    out[numpy.array([3, 3, 0])] = numpy.stack([x, x**2, x**3])
    out[2, 2] = out[1, 0] * out[0, 1]
    out[:, 0] = out[:, 0] + 1.0
    return out


def test_every_kind_of_write_matches_numpy_assignment():
    x = numpy.array([0.3, -0.7, 1.1])
    numpy.testing.assert_allclose(every_kind_of_write(x), every_kind_of_write_in_numpy(x))


def test_every_kind_of_write_against_finite_differences():
    x = numpy.array([0.3, -0.7, 1.1])
    loss = lambda x: np.sum(every_kind_of_write(x) * WEIGHTS) + np.sum(every_kind_of_write(x) ** 2)  # noqa: E731
    reference = lambda x: numpy.sum(every_kind_of_write_in_numpy(x) * WEIGHTS) + numpy.sum(  # noqa: E731
        every_kind_of_write_in_numpy(x) ** 2)
    numpy.testing.assert_allclose(gradient(loss, x)[0], finite_difference_gradient(reference, x), rtol=1e-7)


def index_arrays_and_negative_indices(x):
    """A tuple of integer arrays, negative indices, a full-shape boolean mask, an Ellipsis."""
    buf = Buffer(x, 3, 3)
    buf[(numpy.array([0, 2, 1]), numpy.array([2, 0, 1]))] = x
    buf[-1, -1] = x[0] * x[1]
    buf[numpy.array([[True, False, False], [False, False, True], [False, False, False]])] = x[1:] ** 2
    buf[..., 1] = buf[:, 1] * 3.0
    return buf.copy()


def index_arrays_and_negative_indices_in_numpy(x):
    out = numpy.zeros((3, 3))
    out[(numpy.array([0, 2, 1]), numpy.array([2, 0, 1]))] = x
    out[-1, -1] = x[0] * x[1]
    out[numpy.array([[True, False, False], [False, False, True], [False, False, False]])] = x[1:] ** 2
    out[..., 1] = out[:, 1] * 3.0
    return out


def test_index_arrays_and_negative_indices_against_numpy_and_finite_differences():
    x = numpy.array([0.3, -0.7, 1.1])
    numpy.testing.assert_allclose(index_arrays_and_negative_indices(x), index_arrays_and_negative_indices_in_numpy(x))
    weights = numpy.arange(1.0, 10.0).reshape(3, 3)
    loss = lambda x: np.sum(index_arrays_and_negative_indices(x) ** 2 * weights)  # noqa: E731
    reference = lambda x: numpy.sum(index_arrays_and_negative_indices_in_numpy(x) ** 2 * weights)  # noqa: E731
    numpy.testing.assert_allclose(gradient(loss, x)[0], finite_difference_gradient(reference, x), rtol=1e-7)


def test_overlapping_writes_last_wins_and_only_the_last_writer_gets_gradient():
    def overlapped(a, b):
        buf = Buffer(a, 3)
        buf[0:2] = a
        buf[1:3] = b
        return buf.copy()

    a, b = numpy.array([1.0, 2.0]), numpy.array([3.0, 4.0])
    numpy.testing.assert_array_equal(overlapped(a, b), [1.0, 3.0, 4.0])
    weights = numpy.array([10.0, 20.0, 30.0])
    ga, gb = gradient(lambda a, b: np.sum(overlapped(a, b) * weights), a, b)
    numpy.testing.assert_array_equal(ga, [10.0, 0.0])  # a[1] was overwritten
    numpy.testing.assert_array_equal(gb, [20.0, 30.0])
    numpy.testing.assert_allclose(ga, finite_difference_gradient(lambda a: numpy.sum(overlapped(a, b) * weights), a))


def test_a_constant_write_cuts_the_gradient_of_what_it_overwrites():
    def f(x):
        buf = Buffer(x)
        buf[:] = x
        buf[0] = 5.0
        return np.sum(buf.copy() ** 2)

    numpy.testing.assert_array_equal(gradient(f, numpy.array([1.0, 2.0]))[0], [0.0, 4.0])


def test_scalar_writes_and_reads_in_a_recurrence_against_finite_differences():
    def powers(a):
        buf = Buffer(numpy.zeros(4))
        buf[0] = a
        for i in range(1, 4):
            buf[i] = buf[i - 1] * a + 1.0
        return np.sum(buf.copy() ** 2)

    (analytic,) = gradient(powers, 0.7)
    assert analytic == pytest.approx(float(finite_difference_gradient(lambda a: powers(float(a)), 0.7)), rel=1e-8)


def test_row_writes_agree_with_np_stack():
    x = numpy.linspace(-1.0, 1.0, 6)

    def with_buffer(x):
        buf = Buffer(x, 50, x.size)
        for i in range(50):
            buf[i] = np.sin(x * i)
        return np.sum(copy.copy(buf) ** 2)

    def with_stack(x):
        return np.sum(np.stack([np.sin(x * i) for i in range(50)]) ** 2)

    assert with_buffer(x) == with_stack(x)
    numpy.testing.assert_allclose(gradient(with_buffer, x)[0], gradient(with_stack, x)[0], rtol=1e-13)


def test_broadcast_write_sums_the_gradient_over_the_broadcast():
    def f(scalar, row):
        buf = Buffer(row, 3, 2)
        buf[:, 0] = scalar
        buf[:, 1:] = row[None, :1]
        return np.sum(buf.copy() * WEIGHTS[:3, :2])

    grad_scalar, grad_row = gradient(f, 2.0, numpy.array([1.0, 5.0]))
    assert grad_scalar == pytest.approx(WEIGHTS[:3, 0].sum())
    numpy.testing.assert_allclose(grad_row, [WEIGHTS[:3, 1].sum(), 0.0])


@pytest.mark.parametrize("engine", ["loop", "batched"])
def test_hessian_through_a_buffer_agrees_in_both_modes_and_with_finite_differences(engine):
    x = numpy.array([0.3, -0.7, 1.1])
    loss = lambda x: np.sum(every_kind_of_write(x) ** 3)  # noqa: E731
    H = hessian(loss, x, engine=engine)
    numpy.testing.assert_allclose(H, hessian_reverse(loss, x, engine=engine), atol=1e-12)
    reference = finite_difference_gradient(lambda x: gradient(loss, x)[0][1], x)
    numpy.testing.assert_allclose(H[1], reference, rtol=1e-6)


def test_shape_dtype_ndim_len():
    buf = Buffer(numpy.zeros(3, dtype=numpy.float32), 4, 2)
    assert (buf.shape, buf.dtype, buf.ndim, len(buf)) == ((4, 2), numpy.float32, 2, 4)
    assert Buffer(numpy.zeros((2, 5))).shape == (2, 5)
    assert Buffer(numpy.zeros(1), (3, 3)).shape == (3, 3)
    assert (Buffer([1.0, 2.0]).shape, Buffer([1.0, 2.0]).dtype) == ((2,), numpy.float64)  # as np.empty_like


@pytest.mark.parametrize("freeze", [copy.copy, Buffer.copy])
def test_copy_freezes_and_a_later_write_is_a_one_line_error(freeze):
    buf = Buffer(numpy.zeros(2))
    buf[0] = 1.0
    frozen = freeze(buf)
    numpy.testing.assert_array_equal(frozen, [1.0, 0.0])
    numpy.testing.assert_array_equal(buf[0:1], [1.0])  # reading stays allowed
    with pytest.raises(ValueError) as error:
        buf[1] = 2.0
    assert "\n" not in str(error.value)
    assert "frozen by copy(buf)" in str(error.value)


def test_a_write_after_copy_inside_differentiated_code_is_refused():
    def f(x):
        buf = Buffer(x)
        buf[:] = x
        y = buf.copy()
        buf[0] = x[0]
        return np.sum(y)

    with pytest.raises(ValueError, match="start a new Buffer"):
        gradient(f, numpy.ones(2))


@pytest.mark.parametrize("use", [
    lambda buf: buf + 1.0,
    lambda buf: 1.0 + buf,
    lambda buf: numpy.ones(2) * buf,
    lambda buf: buf @ numpy.ones(2),
    lambda buf: -buf,
    lambda buf: numpy.add(buf, 1.0),
    lambda buf: numpy.sum(buf),
    lambda buf: np.sum(buf),
    lambda buf: numpy.asarray(buf),
])
def test_arithmetic_on_a_buffer_asks_for_a_copy(use):
    buf = Buffer(numpy.zeros(2))
    with pytest.raises(TypeError, match=r"copy it first \(y = copy\(buf\)"):
        use(buf)


def test_arithmetic_with_a_traced_value_asks_for_a_copy():
    def f(x):
        buf = Buffer(x)
        buf[:] = x
        return np.sum(x * buf)

    with pytest.raises(TypeError, match="copy it first"):
        gradient(f, numpy.ones(2))


def test_an_integer_buffer_that_receives_floats_holds_floats_traced_or_not():
    def f(x):
        buf = Buffer(numpy.array([0, 0]))
        buf[0] = x * 0.5
        return np.sum(buf.copy() ** 2)

    assert gradient(f, 3.0) == (1.5,)  # d/dx (x/2)^2 = x/2
    assert f(3.0) == 2.25

"""Time of a gradient through 1000 Buffer row writes, relative to the same rows put together by np.stack.

Run: ``python benchmarks/buffer_vs_stack.py``.  The ratio should stay at or
below 3 (each write is recorded, and the copy is one primitive whose
derivative gathers every write's cotangent, rather than 1000 traced updates).
With autograd's own ``np.stack`` (quadratic in the number of parts: its
derivative works out every part's offset anew) the ratio falls well below 1;
``zygote_nb.numpy`` stacks in linear time, which this script uses.
"""

import copy
import time

import numpy

import zygote_nb.numpy as np
from zygote_nb import gradient
from zygote_nb.buffer import Buffer

ROWS, WIDTH, REPEATS = 1000, 16, 5


def with_buffer(x):
    buf = Buffer(x, ROWS, WIDTH)
    for i in range(ROWS):
        buf[i] = np.sin(x * i)
    return np.sum(copy.copy(buf) ** 2)


def with_stack(x):
    return np.sum(np.stack([np.sin(x * i) for i in range(ROWS)]) ** 2)


def best_time(f, x):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        gradient(f, x)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    x = numpy.random.default_rng(0).standard_normal(WIDTH)
    numpy.testing.assert_allclose(gradient(with_buffer, x)[0], gradient(with_stack, x)[0], rtol=1e-12)
    buffer_time, stack_time = best_time(with_buffer, x), best_time(with_stack, x)
    print(f"{ROWS} rows of width {WIDTH}: Buffer {buffer_time * 1e3:.1f} ms, np.stack {stack_time * 1e3:.1f} ms, "
          f"ratio {buffer_time / stack_time:.2f}")


if __name__ == "__main__":
    main()

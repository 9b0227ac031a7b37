"""Time to draw a Jacobian/Hessian heatmap to PNG, from 1×1 to 4096×4096.

Run: ``python benchmarks/heatmap_speed.py``. Every size should take under 2 s
(the magics draw one heatmap per cell). Beyond the picture's resolution the
matrix is first reduced block by block to the entry of largest magnitude, so
the drawing itself costs the same for every large matrix; the reduction reads
the matrix twice (maximum and minimum per block). Prints the median of a few
draws for each size and the time of the reduction alone.
"""


import numpy
from timing import median_seconds

from zygote_nb.notebook.heatmap import block_reduce, figure_png, heatmap_figure, resolution

SIZES = [(1, 1), (10, 10), (64, 300), (512, 512), (1024, 1024), (2048, 2048), (4096, 4096)]
REPEATS = 3
LIMIT_SECONDS = 2.0


def main() -> None:
    rng = numpy.random.default_rng(0)
    print(f"{'shape':>12}  {'heatmap PNG (s)':>15}  {'reduction (s)':>13}")
    slowest = 0.0
    for rows, columns in SIZES:
        matrix = rng.normal(size=(rows, columns))
        blocks = [("w", columns - columns // 4), ("b", columns // 4)] if columns >= 4 else [("x", columns)]

        def draw():
            figure_png(heatmap_figure(matrix, title="Jacobian of y", row_label="y", column_blocks=blocks))

        drawing = median_seconds(draw, REPEATS)
        reduction = median_seconds(lambda: block_reduce(matrix, *resolution()), REPEATS)
        slowest = max(slowest, drawing)
        print(f"{rows:>5}×{columns:<6}  {drawing:>15.3f}  {reduction:>13.3f}")
    print(f"slowest {slowest:.3f} s: {'within' if slowest < LIMIT_SECONDS else 'OVER'} the {LIMIT_SECONDS:.0f} s target")


if __name__ == "__main__":
    main()

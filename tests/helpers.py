"""Independent references for the tests: central finite differences."""

import numpy


def finite_difference_gradient(f, x, step=1e-6):
    """Central differences of the real scalar ``f`` at ``x`` (a float array), in ``x``'s shape."""
    x = numpy.array(x, dtype=float)
    gradient = numpy.zeros_like(x)
    for index in numpy.ndindex(x.shape):
        forward, backward = x.copy(), x.copy()
        forward[index] += step
        backward[index] -= step
        gradient[index] = (f(forward) - f(backward)) / (2 * step)
    return gradient


def finite_difference_jacobian(f, x, step=1e-6):
    """``J[k, i] = ∂ f(x).ravel()[k] / ∂ x.ravel()[i]`` by central differences."""
    x = numpy.array(x, dtype=float)
    columns = []
    for i in range(x.size):
        forward, backward = x.copy().ravel(), x.copy().ravel()
        forward[i] += step
        backward[i] -= step
        difference = numpy.ravel(f(forward.reshape(x.shape))) - numpy.ravel(f(backward.reshape(x.shape)))
        columns.append(difference / (2 * step))
    return numpy.stack(columns, axis=1)

"""CuPy: registered the first time a CuPy array reaches zygote_nb, or when ``set_backend("cupy")`` asks for it.

CuPy arrays already answer NumPy's protocols: ``numpy.sin(a)`` runs
``cupy.sin`` through ``__array_ufunc__``, ``numpy.sum(a)`` runs ``cupy.sum``
through ``__array_function__``, and ``numpy.asarray(a)`` raises instead of
copying to the host.  Registering the type is all CuPy needs; the namespace
is the ``cupy`` module itself, whose ``add.at`` scatters on the device.
"""

from __future__ import annotations


def register() -> None:
    """Register ``cupy.ndarray``; a clear ``ImportError`` when CuPy is not installed."""
    try:
        import cupy
    except ImportError as error:
        raise ImportError("the cupy backend needs CuPy and an NVIDIA GPU: pip install 'zygote_nb[cupy]'") from error
    from . import register_array_type

    register_array_type(cupy.ndarray, cupy, name="cupy")

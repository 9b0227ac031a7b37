"""zygote_nb: Zygote.jl's differentiation utilities for NumPy code, and a notebook to see them.

>>> import zygote_nb as zn
>>> zn.gradient(lambda a, b: a / b, 1, 2)
(0.5, -0.25)
"""

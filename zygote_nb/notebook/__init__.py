"""The notebook layer: the ``%%gradient``, ``%%jacobian`` and ``%%hessian`` cell magics and what they show.

Everything here is built on the differentiation core and importable without a
running kernel: :mod:`~zygote_nb.notebook.cell` runs a cell as a function of
named inputs, :mod:`~zygote_nb.notebook.derivatives` differentiates it,
:mod:`~zygote_nb.notebook.results` holds and describes what came out,
:mod:`~zygote_nb.notebook.heatmap` draws Jacobians and Hessians,
:mod:`~zygote_nb.notebook.display` shows results, and
:mod:`~zygote_nb.notebook.magics` is the thin IPython layer on top.
"""

"""Instrumentation fuzzer: random programs rewritten to use instrumentation, against the program without it.

A program is a chain of steps over a state ``h`` (three numbers), starting at
``x`` and reading a 3×3 weight ``W`` in some steps.  A *rewrite* wraps one
step or a run of steps in instrumentation (``hook``, ``showgrad``, ``Buffer``,
``forwarddiff``, ``checkpointed``, ``ignore_derivatives``, and nestings of
them) and names the equivalent program without it: usually the plain one; for
``ignore_derivatives``, the program with that branch replaced by its value as a
constant; for a non-identity hook inside ``checkpointed``, the same hook
without ``checkpointed``.  Both are then differentiated by ``gradient``,
``jacobian`` and ``hessian`` / ``hessian_reverse`` (each with both engines;
the Hessians over ``x`` and ``W`` packed in one vector, so that ``W`` is traced
twice), and must agree.  ``showgrad`` reports are checked against the
gradient of the program's tail, and their count per Jacobian row.
``Params``/``Grads`` (with hooks, and ``checkpointed`` closing over a
parameter) and ``eager_update`` with each optimiser (alone and feeding a
``checkpointed`` call) are checked at the operator level, against explicit
gradients and a hand-applied update.

The quick run (a few seconds) is part of the default test run.  The long run:

    ZYGOTE_NB_INSTRUMENTATION_FUZZ=300 python -m pytest tests/test_instrumentation_fuzz.py -q

checks that many programs per rewrite and per optimiser (docs/instrumentation.md
gives the figures of the last long run).  A failure names its seed; rerun it
with ``ZYGOTE_NB_INSTRUMENTATION_FUZZ_SEED=<seed>``.
"""

import os
from copy import copy
from dataclasses import dataclass
from typing import Callable

import numpy
import pytest

import zygote_nb as zn
import zygote_nb.numpy as np
from zygote_nb import optimisers
from zygote_nb.hooks import scale
from zygote_nb.showgrad import capture_reports

PROGRAMS = int(os.environ.get("ZYGOTE_NB_INSTRUMENTATION_FUZZ", "3"))
ONE_SEED = os.environ.get("ZYGOTE_NB_INSTRUMENTATION_FUZZ_SEED")
SEEDS = [int(ONE_SEED)] if ONE_SEED else list(range(PROGRAMS))
READOUT = numpy.array([0.7, -1.3, 0.4])
RTOL, ATOL = 1e-9, 1e-11


# --- programs ---------------------------------------------------------------------------------

# name -> (step, reads W); each keeps the state of shape (3,) and moderate in size
STEPS: dict[str, tuple[Callable, bool]] = {
    "sin": (lambda h, W, c: np.sin(h + c), False),
    "tanh": (lambda h, W, c: np.tanh(c * h), False),
    "square": (lambda h, W, c: 0.5 * h * h - c, False),
    "softplus": (lambda h, W, c: np.log(1.0 + np.exp(h)) * c, False),
    "reverse": (lambda h, W, c: h[::-1] * c + h, False),
    "mix": (lambda h, W, c: h * np.mean(np.sin(h)) + c, False),
    "matmul": (lambda h, W, c: np.tanh(W @ h) + c * h, True),
    "scaled": (lambda h, W, c: h * np.sum(W[0]) * c, True),
}


@dataclass(frozen=True)
class Step:
    name: str
    constant: float

    def __call__(self, h, W):
        return STEPS[self.name][0](h, W, self.constant)

    @property
    def reads_weights(self) -> bool:
        return STEPS[self.name][1]


def random_program(rng) -> list:
    names = sorted(STEPS)
    while True:
        program = [Step(names[rng.integers(len(names))], float(rng.uniform(0.3, 1.2)))
                   for _ in range(rng.integers(3, 7))]
        if any(not step.reads_weights for step in program) and any(step.reads_weights for step in program):
            return program


def run(steps, h, W, plan=None):
    """Run ``steps`` from ``h``; ``plan[k] = (span, transform)`` runs steps k..k+span-1 as ``transform(them, h, W)``."""
    plan = plan or {}
    k = 0
    while k < len(steps):
        span, transform = plan.get(k, (1, None))
        part = steps[k:k + span]
        h = run_plainly(part, h, W) if transform is None else transform(part, h, W)
        k += span
    return h


def run_plainly(steps, h, W):
    for step in steps:
        h = step(h, W)
    return h


# --- rewrites ---------------------------------------------------------------------------------

def identity(gradient):
    return gradient


def hooked(steps, h, W):
    return zn.hook(identity, run_plainly(steps, h, W))


def shown(steps, h, W):
    return zn.showgrad(run_plainly(steps, h, W), name="fuzz")


def buffered(steps, h, W, hook_writes=False):
    value = run_plainly(steps, h, W)
    buffer = zn.Buffer(value, 3)
    for index in range(3):
        buffer[index] = zn.hook(identity, value[index]) if hook_writes else value[index]
    return copy(buffer)


def forward_mode(steps, h, W):
    return zn.forwarddiff(lambda h: run_plainly(steps, h, None), h)


def checkpoint_closing_over_weights(steps, h, W):
    return zn.checkpointed(lambda h: run_plainly(steps, h, W), h)


def checkpoint_with_weights_passed(steps, h, W):
    return zn.checkpointed(lambda h, W: run_plainly(steps, h, W), h, W)


def doubled_by_hook(steps, h, W):
    return zn.hook(scale(2.0), run_plainly(steps, h, W))


def checkpoint_of_doubled_by_hook(steps, h, W):
    return zn.checkpointed(lambda h: doubled_by_hook(steps, h, W), h)


def checkpoint_of_shown(steps, h, W):
    return zn.checkpointed(lambda h: shown(steps, h, W), h)


def checkpoint_of_forward_mode(steps, h, W):
    """forwarddiff on the W-free steps of the run, all inside one checkpointed call."""
    plan = {k: (1, forward_mode) for k, step in enumerate(steps) if not step.reads_weights}
    return zn.checkpointed(lambda h: run(steps, h, W, plan), h)


def span_of(program, rng, weight_free=False):
    """``(start, span)`` of a random run of steps (one W-free step when asked)."""
    if weight_free:
        candidates = [k for k, step in enumerate(program) if not step.reads_weights]
        return candidates[rng.integers(len(candidates))], 1
    start = int(rng.integers(len(program)))
    return start, int(rng.integers(1, len(program) - start + 1))


@dataclass
class Rewrite:
    """``make(program, rng, x, W)`` returns ``(instrumented plan, reference plan)`` for one program."""

    name: str
    make: Callable
    reports: bool = False  # showgrad inside: its reports are checked too


def wrapping(transform, reference=None, weight_free=False):
    def make(program, rng, x, W):
        start, span = span_of(program, rng, weight_free)
        return {start: (span, transform)}, ({start: (span, reference)} if reference else {})
    return make


def branch_held_constant(form):
    """``h + branch(h)`` with the branch cut off, against ``h + value`` with the value computed beforehand."""
    def make(program, rng, x, W):
        start, span = span_of(program, rng)
        h_start = run_plainly(program[:start], x, W)
        held = run_plainly(program[start:start + span], h_start, W)

        def cut(steps, h, W):
            if form == "function":
                return h + zn.ignore_derivatives(run_plainly(steps, h, W))
            if form == "computed in a block":
                with zn.ignore_derivatives():
                    branch = run_plainly(steps, h, W)
                return h + branch
            branch = run_plainly(steps, h, W)
            with zn.ignore_derivatives():
                bound = branch  # bound to a name in the block: cut on leaving it
            return h + bound

        return {start: (span, cut)}, {start: (span, lambda steps, h, W: h + held)}
    return make


REWRITES = [
    Rewrite("hook", wrapping(hooked)),
    Rewrite("showgrad", wrapping(shown), reports=True),
    Rewrite("Buffer", wrapping(buffered)),
    Rewrite("hooks in Buffer code", wrapping(lambda steps, h, W: buffered(steps, h, W, hook_writes=True))),
    Rewrite("forwarddiff", wrapping(forward_mode, weight_free=True)),
    Rewrite("checkpointed closing over W", wrapping(checkpoint_closing_over_weights)),
    Rewrite("checkpointed with W passed", wrapping(checkpoint_with_weights_passed)),
    Rewrite("checkpointed of forwarddiff", wrapping(checkpoint_of_forward_mode)),
    Rewrite("checkpointed of a scaling hook", wrapping(checkpoint_of_doubled_by_hook, reference=doubled_by_hook)),
    Rewrite("checkpointed of showgrad", wrapping(checkpoint_of_shown, reference=shown), reports=True),
    Rewrite("ignore_derivatives, function", branch_held_constant("function")),
    Rewrite("ignore_derivatives, block", branch_held_constant("computed in a block")),
    Rewrite("ignore_derivatives, bound name", branch_held_constant("bound in a block")),
]


# --- comparison -------------------------------------------------------------------------------

def derivatives(program, plan, x, W):
    """Every operator's answer for one program, with the showgrad reports each made."""
    vector = lambda x, W: run(program, x, W, plan)  # noqa: E731
    loss = lambda x, W: np.sum(vector(x, W) * READOUT)  # noqa: E731
    packed = lambda v: loss(v[:3], np.reshape(v[3:], (3, 3)))  # noqa: E731
    point = numpy.concatenate([x, W.ravel()])
    calls = {"gradient": lambda: zn.gradient(loss, x, W)}
    for engine in ("loop", "batched"):
        calls[f"jacobian/{engine}"] = lambda engine=engine: zn.jacobian(vector, x, W, engine=engine)
        calls[f"hessian/{engine}"] = lambda engine=engine: zn.hessian(packed, point, engine=engine)
        calls[f"hessian_reverse/{engine}"] = lambda engine=engine: zn.hessian_reverse(packed, point, engine=engine)
    answers, reports = {}, {}
    for name, call in calls.items():
        with capture_reports() as captured:
            answers[name] = call()
        reports[name] = captured
    return answers, reports


def assert_close(got, expected, context):
    if isinstance(expected, tuple):
        for part_got, part_expected in zip(got, expected):
            assert_close(part_got, part_expected, context)
        return
    if expected is None:  # the output does not depend on this argument
        assert got is None, context
        return
    numpy.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=context)


def example(seed):
    rng = numpy.random.default_rng(seed)
    program = random_program(rng)
    x = rng.uniform(-1.0, 1.0, 3)
    W = rng.standard_normal((3, 3)) / 2
    return rng, program, x, W


@pytest.mark.parametrize("rewrite", REWRITES, ids=[rewrite.name for rewrite in REWRITES])
@pytest.mark.parametrize("seed", SEEDS)
def test_a_rewritten_program_differentiates_as_the_program_without_the_instrumentation(rewrite, seed):
    rng, program, x, W = example(seed)
    plan, reference_plan = rewrite.make(program, rng, x, W)
    context = f"{rewrite.name}, seed {seed}: {program}, plan {sorted(plan)}"
    got, got_reports = derivatives(program, plan, x, W)
    expected, expected_reports = derivatives(program, reference_plan, x, W)
    for name in expected:
        assert_close(got[name], expected[name], f"{context}, {name}")
    if rewrite.reports:
        check_reports(program, plan, x, W, got_reports, expected_reports, context)


def check_reports(program, plan, x, W, reports, reference_reports, context):
    """One report per backward pass: once for gradient, once per row for jacobian, as without checkpointed."""
    ((start, (span, _)),) = plan.items()
    end = start + span
    tail = lambda h: np.sum(run_plainly(program[end:], h, W) * READOUT)  # noqa: E731
    reached = zn.gradient(tail, run_plainly(program[:end], x, W))[0]
    (report,) = reports["gradient"]
    numpy.testing.assert_allclose(report.value, reached, rtol=RTOL, atol=ATOL, err_msg=context)
    for engine in ("loop", "batched"):
        assert len(reports[f"jacobian/{engine}"]) == 3, context
    if any(reference_reports.values()):  # the reference is the showgrad without checkpointed
        for name in reports:
            assert len(reports[name]) == len(reference_reports[name]), f"{context}, {name}"


# --- operator-level instrumentation -------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_a_params_loss_with_hooks_has_the_explicit_gradients(seed):
    rng, program, x, W = example(seed)
    start, span = span_of(program, rng)
    checkpoint = bool(rng.integers(2))
    transform = checkpoint_closing_over_weights if checkpoint else hooked
    plan = {start: (span, lambda steps, h, W: zn.hook(identity, transform(steps, h, W)))}
    grads = zn.gradient(lambda: np.sum(run(program, x, W, plan) * READOUT), zn.Params([W, x]))
    explicit = zn.gradient(lambda x, W: np.sum(run_plainly(program, x, W) * READOUT), x, W)
    context = f"seed {seed}: {program}, checkpointed {checkpoint}"
    assert_close((grads[x], grads[W]), explicit, context)


OPTIMISERS = [optimisers.Descent(0.1), optimisers.Momentum(0.05, 0.9), optimisers.Adam(0.01)]


@pytest.mark.parametrize("rule", OPTIMISERS, ids=[type(rule).__name__ for rule in OPTIMISERS])
@pytest.mark.parametrize("seed", SEEDS)
def test_eager_update_trains_as_gradient_then_update(rule, seed):
    rng, program, x, W = example(seed)
    eager_model, model = {"W": W.copy(), "b": x.copy()}, {"W": W.copy(), "b": x.copy()}
    eager_state, state = optimisers.setup(rule, eager_model), optimisers.setup(rule, model)
    loss = lambda m: np.sum(run_plainly(program, m["b"], m["W"]) * READOUT)  # noqa: E731
    checkpoint = seed % 2 == 1  # as the docs combine them: the updated model goes into a checkpointed call
    through_checkpoint = lambda m: np.sum(  # noqa: E731
        zn.checkpointed(lambda b, W: run_plainly(program, b, W), m["b"], m["W"]) * READOUT)
    eager_loss = through_checkpoint if checkpoint else loss
    for _ in range(3):  # the optimiser's state carries from step to step
        zn.gradient(lambda m: eager_loss(zn.eager_update(eager_state, m, optimisers.update)), eager_model)
        optimisers.update(state, model, zn.gradient(loss, model)[0])
    context = f"{type(rule).__name__}, seed {seed}, checkpointed {checkpoint}: {program}"
    for key in model:
        numpy.testing.assert_allclose(eager_model[key], model[key], rtol=RTOL, atol=ATOL, err_msg=context)

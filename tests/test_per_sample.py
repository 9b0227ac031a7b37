"""per_sample_gradients against a loop of gradient calls, one per example, and its statistics against hand loops."""

import threading

import autograd.numpy as anp
import numpy
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp

import zygote_nb as zn
import zygote_nb.numpy as np
from zygote_nb.per_sample import replay, rules
from zygote_nb.per_sample.trace import SampleDecisionError, trace_one_sample

rng = numpy.random.default_rng(7)


def loop_of_gradients(f, params, *data):
    """The independent path: zn.gradient of each example's own loss, one call per example."""
    rows = [zn.gradient(lambda p: f(p, *(array[b] for array in data)), params)[0] for b in range(len(data[0]))]
    return rows


def assert_rows_match(per_sample, rows):
    leaves = per_sample if isinstance(per_sample, (tuple, list)) else (per_sample,)
    for position, leaf in enumerate(leaves):
        for b, row in enumerate(rows):
            expected = row[position] if isinstance(per_sample, (tuple, list)) else row
            numpy.testing.assert_allclose(leaf[b], expected, rtol=0, atol=1e-12)


def mlp_loss(params, x, label):
    W1, b1, W2, b2 = params
    hidden = np.maximum(W1 @ x + b1, 0.0)
    scores = np.tanh(W2 @ hidden + b2)
    return logsumexp(scores) - scores[label]


def mlp_params(sizes=(6, 8, 4)):
    return (rng.normal(size=(sizes[1], sizes[0])), rng.normal(size=sizes[1]),
            rng.normal(size=(sizes[2], sizes[1])), rng.normal(size=sizes[2]))


def test_mlp_softmax_cross_entropy_rows_equal_each_examples_gradient():
    params = mlp_params()
    x, labels = rng.normal(size=(12, 6)), rng.integers(0, 4, size=12)
    per_sample = zn.per_sample_gradients(mlp_loss, params, x, labels)
    assert [leaf.shape for leaf in per_sample] == [(12,) + p.shape for p in params]
    assert_rows_match(per_sample, loop_of_gradients(mlp_loss, params, x, labels))


def test_mean_over_the_batch_is_the_gradient_of_the_mean_loss():
    params = mlp_params()
    x, labels = rng.normal(size=(10, 6)), rng.integers(0, 4, size=10)

    def batch_loss(p):  # written for the whole batch, independently of the one-example loss
        W1, b1, W2, b2 = p
        scores = np.tanh(np.maximum(x @ W1.T + b1, 0.0) @ W2.T + b2)
        return np.mean(logsumexp(scores, axis=1) - scores[numpy.arange(10), labels])

    per_sample = zn.per_sample_gradients(mlp_loss, params, x, labels)
    for leaf, expected in zip(per_sample, zn.gradient(batch_loss, params)[0]):
        numpy.testing.assert_allclose(leaf.mean(axis=0), expected, rtol=0, atol=1e-12)


def convolution_loss(params, image, target):
    """A 3×3 convolution written with NumPy slices and einsum, then ReLU, mean pooling and a dense layer."""
    kernel, dense = params
    height, width = image.shape[1] - 2, image.shape[2] - 2
    feature = 0.0
    for a in range(3):
        for b in range(3):
            feature = feature + np.einsum("oc,chw->ohw", kernel[:, :, a, b], image[:, a:a + height, b:b + width])
    pooled = np.mean(np.maximum(feature, 0.0), axis=(1, 2))
    return np.sum((dense @ pooled - target) ** 2)


def test_convolution_written_with_numpy():
    params = (rng.normal(size=(4, 2, 3, 3)), rng.normal(size=(3, 4)))
    images, targets = rng.normal(size=(5, 2, 7, 6)), rng.normal(size=(5, 3))
    per_sample = zn.per_sample_gradients(convolution_loss, params, images, targets)
    assert_rows_match(per_sample, loop_of_gradients(convolution_loss, params, images, targets))


def test_several_data_arguments_a_dict_and_examples_along_another_axis():
    w = rng.normal(size=(3, 4))

    def loss(w, x, extras, weight):
        residual = w @ x - extras["target"]
        return weight * np.sum(residual ** 2) + np.sum(np.abs(w.T @ extras["target"]))

    x, target, weight = rng.normal(size=(4, 9)), rng.normal(size=(9, 3)), rng.uniform(size=9)
    per_sample = zn.per_sample_gradients(loss, w, x.T, {"target": target}, weight)
    rows = [zn.gradient(lambda v: loss(v, x[:, b], {"target": target[b]}, weight[b]), w)[0] for b in range(9)]
    assert_rows_match(per_sample, rows)
    along_axis_one = zn.per_sample_gradients(lambda w, x: np.sum((w @ x) ** 2), w, x, axis=1)
    assert_rows_match(along_axis_one, [zn.gradient(lambda v: np.sum((v @ x[:, b]) ** 2), w)[0] for b in range(9)])


def test_params_give_grads_with_a_leading_batch_axis():
    W, b = rng.normal(size=(3, 2)), rng.normal(size=3)
    unused = numpy.ones(5)
    ps = zn.Params([W, b, unused])
    x = rng.normal(size=(6, 2))
    per_sample = zn.per_sample_gradients(lambda ps, x: np.sum(np.sin(W @ x + b)), ps, x)
    assert isinstance(per_sample, zn.Grads)
    assert per_sample[unused] is None
    for row in range(6):
        expected = zn.gradient(lambda: np.sum(np.sin(W @ x[row] + b)), zn.Params([W, b]))
        numpy.testing.assert_allclose(per_sample[W][row], expected[W], rtol=0, atol=1e-12)
        numpy.testing.assert_allclose(per_sample[b][row], expected[b], rtol=0, atol=1e-12)


def test_shape_and_join_operations_and_a_parameter_only_term():
    def loss(params, x):
        w, v = params
        stacked = np.stack([w * x, np.flip(x)], axis=1)
        joined = np.concatenate([stacked.reshape(-1), v.T.ravel()])
        return np.sum(np.where(joined > 0, joined, 0.1 * joined) ** 2) + np.sum(v ** 2) + np.max(w @ v)

    params = (rng.normal(size=4), rng.normal(size=(4, 2)))
    x = rng.normal(size=(5, 4))
    assert_rows_match(zn.per_sample_gradients(loss, params, x), loop_of_gradients(loss, params, x))


@pytest.mark.parametrize("ns", [np, numpy], ids=["zygote_nb.numpy", "numpy"])
def test_a_primitive_without_a_batching_rule_falls_back_example_by_example(ns, monkeypatch):
    def loss(w, x):
        return ns.linalg.det(w * x) ** 2 + np.sum(w * x)

    fallbacks, one_by_one = [], replay.one_by_one

    def counted(node, args, batch):
        fallbacks.append((node.fun, batch))
        return one_by_one(node, args, batch)

    monkeypatch.setattr(replay, "one_by_one", counted)
    w, x = rng.normal(size=(3, 3)), rng.normal(size=(6, 3, 3))
    assert anp.linalg.det not in rules.RULES
    assert_rows_match(zn.per_sample_gradients(loss, w, x), loop_of_gradients(loss, w, x))
    assert fallbacks == [(anp.linalg.det, 6)]  # only det, the node without a rule, went example by example


def test_chunks_within_a_small_memory_budget_give_the_same_rows():
    params = mlp_params()
    x, labels = rng.normal(size=(9, 6)), rng.integers(0, 4, size=9)
    whole = zn.per_sample_gradients(mlp_loss, params, x, labels)
    chunked = zn.per_sample_gradients(mlp_loss, params, x, labels, memory_budget=9 * 8 * 200 + 4000)
    for a, b in zip(whole, chunked):
        numpy.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    with pytest.raises(zn.MemoryBudgetError, match="per_sample_gradients needs"):
        zn.per_sample_gradients(mlp_loss, params, x, labels, memory_budget=1000)


def test_a_python_decision_on_a_sample_value_is_refused_with_the_rewrite():
    with pytest.raises(SampleDecisionError, match="np.where"):
        zn.per_sample_gradients(lambda w, x: np.sum(w * x) if x[0] > 0 else 0.0, numpy.ones(2), numpy.ones((3, 2)))
    # a decision on the parameters alone is the same for every example, and allowed
    rows = zn.per_sample_gradients(lambda w, x: np.sum(w * x) if w[0] > 0 else 0.0, numpy.ones(2), numpy.eye(2))
    numpy.testing.assert_allclose(rows, numpy.eye(2))


def test_bad_inputs_give_one_line_errors_naming_the_fix():
    with pytest.raises(TypeError, match="batched data"):
        zn.per_sample_gradients(lambda w: w, numpy.ones(2))
    with pytest.raises(ValueError, match="same batch size"):
        zn.per_sample_gradients(lambda w, x, y: np.sum(w * x) * y, numpy.ones(2), numpy.ones((3, 2)), numpy.ones(4))
    with pytest.raises(TypeError, match="outside zn.gradient"):
        zn.gradient(lambda w: numpy.sum(zn.per_sample_gradients(lambda w, x: np.sum(w * x), w, numpy.eye(2))),
                    numpy.ones(2))
    with pytest.raises(TypeError, match="real parameters"):
        zn.per_sample_gradients(lambda w, x: np.sum(np.abs(w * x)), numpy.ones(2) + 1j, numpy.eye(2))
    with pytest.raises(ValueError, match="scalar loss"):
        zn.per_sample_gradients(lambda w, x: w * x, numpy.ones(2), numpy.ones((3, 2)))


def test_statistics_match_hand_loops():
    per_sample = (rng.normal(size=(7, 3, 2)), rng.normal(size=(7, 4)))
    stats = zn.per_sample_statistics(per_sample, names=["W", "b"])
    flat = [numpy.concatenate([per_sample[0][b].ravel(), per_sample[1][b]]) for b in range(7)]
    mean = sum(flat) / 7
    for b in range(7):
        assert stats.norms[b] == pytest.approx(numpy.sqrt(sum(v * v for v in flat[b])))
        assert stats.cosines[b] == pytest.approx(flat[b] @ mean / numpy.sqrt(flat[b] @ flat[b]) / numpy.sqrt(mean @ mean))
    assert [index for index, _ in stats.top(3)] == sorted(range(7), key=lambda b: -stats.norms[b])[:3]
    for name, array in zip(["W", "b"], per_sample):
        entries = array.reshape(7, -1)
        variance = [sum((entries[b, i] - entries[:, i].sum() / 7) ** 2 for b in range(7)) / 7
                    for i in range(entries.shape[1])]
        numpy.testing.assert_allclose(stats.variance[name].ravel(), variance)
        assert stats.snr[name] == pytest.approx(sum((entries.sum(0) / 7) ** 2) / sum(variance))


def test_examples_of_several_items_with_labels_inside_a_tuple_index():
    def loss(W, x, labels):  # each example: k inputs and their k labels
        scores = x @ W.T
        return np.sum(logsumexp(scores, axis=1) - scores[np.arange(len(labels)), labels])

    W, x, labels = rng.normal(size=(3, 4)), rng.normal(size=(6, 2, 4)), rng.integers(0, 3, size=(6, 2))
    assert_rows_match(zn.per_sample_gradients(loss, W, x, labels), loop_of_gradients(loss, W, x, labels))


def test_reductions_along_axes():
    def loss(w, x):
        y = np.tanh(x * w)
        return (np.sum(np.var(y, axis=0)) + np.sum(np.std(y, axis=1)) + np.sum(np.prod(y, axis=(0,)))
                + np.sum(np.cumsum(y, axis=1)) + np.max(np.min(y, axis=0)) + np.mean(y, axis=(0, 1)))

    w, x = rng.normal(size=(3, 4)), rng.normal(size=(5, 3, 4))
    assert_rows_match(zn.per_sample_gradients(loss, w, x), loop_of_gradients(loss, w, x))


def tile_loss(ns, w, x):
    return ns.sum(ns.sin(ns.tile(w * x, 2)) * numpy.arange(24.0).reshape(3, 8))


def repeat_loss(ns, w, x):
    return ns.sum(ns.cos(ns.repeat(w * x, 2, axis=-1)) * numpy.arange(24.0).reshape(3, 8))


def where_loss(ns, w, x):  # the branch w[0] is broadcast over the rows
    return ns.sum(ns.where(x > 0, w[0] * x, ns.sum(w) * 0.5) ** 2)


def norm_loss(ns, w, x):
    return ns.sum(ns.linalg.norm(w * x, axis=1, keepdims=True) * x[:, :1])


def flip_loss(ns, w, x):
    return ns.sum(ns.flip(w * x, axis=0) * x) + ns.sum(ns.flip(ns.tanh(w + x)) * numpy.arange(12.0).reshape(3, 4))


def einsum_loss(ns, w, x):
    return ns.sum(ns.einsum("ij,kj->ik", w, x) ** 2) + ns.sum(ns.einsum("ii->i", w[:, :3] * x[:, :3]))


def prod_loss(ns, w, x):  # some examples hold a zero
    return ns.prod(w * x) + ns.sum(ns.prod(w + x, axis=-1)) + ns.sum(ns.prod(w * x, axis=(0,)))


def axes_loss(ns, w, x):
    y = ns.tanh(w * x)
    return (ns.sum(ns.mean(y, axis=(-1, 0))) + ns.sum(ns.max(y, axis=-2)) + ns.sum(ns.var(y, axis=(0, -1)))
            + ns.sum(ns.std(y, axis=-1, keepdims=True)) + ns.min(y, axis=(-2, -1)) + ns.sum(ns.sum(y, axis=-1)))


@pytest.mark.parametrize("ns", [np, numpy], ids=["zygote_nb.numpy", "numpy"])
@pytest.mark.parametrize("loss", [tile_loss, repeat_loss, where_loss, norm_loss, flip_loss, einsum_loss, prod_loss,
                                  axes_loss], ids=lambda loss: loss.__name__)
def test_the_repaired_functions_with_either_numpy(ns, loss):
    w, x = rng.normal(size=(3, 4)), rng.normal(size=(5, 3, 4))
    x[::2, 1, 2] = 0.0
    per_sample = zn.per_sample_gradients(lambda w, x: loss(ns, w, x), w, x)
    assert_rows_match(per_sample, loop_of_gradients(lambda w, x: loss(ns, w, x), w, x))


def test_shapes_and_sizes_are_constants_and_a_value_computed_index_is_still_refused():
    def loss(w, x):
        total = 0.0
        for row in range(numpy.size(x) // np.size(x[0]) if numpy.size(x) != 0 else 0):
            total = total + np.sum(w[row] * x[row]) / (len(x) * x.shape[1] * numpy.ndim(x))
        return total + np.sum(numpy.broadcast_to(w, numpy.shape(x)) ** 2)

    graph = trace_one_sample(loss, [numpy.ones((3, 4))], [numpy.ones((3, 4))],
                             rebuild=lambda parameters, data: (parameters[0], data[0]))
    assert not any(node.fun is anp.size for node in graph.nodes)
    w, x = rng.normal(size=(3, 4)), rng.normal(size=(5, 3, 4))
    assert_rows_match(zn.per_sample_gradients(loss, w, x), loop_of_gradients(loss, w, x))
    # integers computed from the values are not constants: using them in Python is refused
    with pytest.raises(SampleDecisionError, match="Python decision.*np.where"):
        zn.per_sample_gradients(lambda w, x: np.sum(w * x) * int(np.argmax(x)), numpy.ones(4), x[:, 0])
    labels = rng.integers(0, 4, size=5)
    for one_hot in (lambda w, x, y: np.sum(w * numpy.eye(4)[np.argmax(x)]), lambda w, x, y: np.sum(w * numpy.eye(4)[y])):
        with pytest.raises(SampleDecisionError, match="plain array.*log_probabilities\\[y\\]"):
            zn.per_sample_gradients(one_hot, numpy.ones(4), x[:, 0], labels)


def test_another_thread_differentiates_and_traces_while_a_per_sample_call_runs():
    """Two per-sample traces that start and end interleaved, and plain differentiation beside them."""
    first_tracing, second_tracing, first_done = threading.Event(), threading.Event(), threading.Event()
    failures, results, refused = [], {}, []

    def first_loss(w, x):
        first_tracing.set()
        second_tracing.wait(10)
        return np.sum(np.where(x > 0, w, 0.0) * x)

    def second_loss(w, x):
        second_tracing.set()
        first_done.wait(10)  # the first trace has ended; this one's guard and scalar comparisons still hold
        try:
            bool(x[1])  # refused in the trace; the plain call on the last example passes
        except SampleDecisionError:
            refused.append("second")
        return np.sum(np.where(x[0] > 0, w * w, 0.0))

    def run(name, loss, x, after=None):
        try:
            results[name] = zn.per_sample_gradients(loss, w, x)
        except BaseException as error:  # pytest's failures too
            failures.append((name, error))
        finally:
            if after:
                after.set()

    w, x = rng.normal(size=3), rng.normal(size=(4, 3))
    first = threading.Thread(target=run, args=("first", first_loss, x, first_done))
    first.start()
    first_tracing.wait(10)
    second = threading.Thread(target=run, args=("second", second_loss, x))
    second.start()
    second_tracing.wait(10)
    # Meanwhile this thread differentiates Python decisions on its own values: none is refused or rerouted.
    assert zn.gradient(lambda v: v[0] * v[1] if v[0] else v[1], numpy.array([2.0, 3.0]))[0].tolist() == [3.0, 2.0]
    assert grad(lambda v: v * 2.0 if v else v)(1.0) == 2.0
    first.join(10), second.join(10)
    assert failures == [] and refused == ["second"]
    numpy.testing.assert_allclose(results["first"], numpy.where(x > 0, x, 0.0), rtol=0, atol=1e-15)
    numpy.testing.assert_allclose(results["second"], numpy.where(x[:, :1] > 0, 2 * w, 0.0), rtol=0, atol=1e-15)
    with pytest.raises(SampleDecisionError):  # and the guard is back for the next trace
        zn.per_sample_gradients(lambda w, x: np.sum(w * x) if x[0] > 0 else 0.0, w, x)

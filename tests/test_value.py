"""gradcli.Value is micrograd's Value, drop-in.

Oracles: micrograd 0.1.0 itself (its engine and its nn.py, run on both
Values with the same random weights, every number compared) and PyTorch
(micrograd's own test_engine.py cases, copied below as its repository has
them, with only the import changed).
"""

from __future__ import annotations

import inspect
import math
import random
import sys

import pytest

import gradcli
from gradcli import DomainError, GradcliError, InputError, Value

micrograd_engine = pytest.importorskip("micrograd.engine")
micrograd_nn = pytest.importorskip("micrograd.nn")
MValue = micrograd_engine.Value


# ------------------------------------------- micrograd's test/test_engine.py

def test_sanity_check():
    torch = pytest.importorskip("torch")

    x, z, q, h, y = sanity(Value)            # micrograd's lines, in sanity below
    y.backward()
    xmg, ymg = x, y

    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xpt, ypt = x, y

    # forward pass went well
    assert ymg.data == ypt.data.item()
    # backward pass went well
    assert xmg.grad == xpt.grad.item()


def test_more_ops():
    torch = pytest.importorskip("torch")

    a, b, c, d, e, f, g = more_ops(Value)   # micrograd's lines, in more_ops below
    g.backward()
    amg, bmg, gmg = a, b, g

    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    apt, bpt, gpt = a, b, g

    tol = 1e-6
    # forward pass went well
    assert abs(gmg.data - gpt.data.item()) < tol
    # backward pass went well
    assert abs(amg.grad - apt.grad.item()) < tol
    assert abs(bmg.grad - bpt.grad.item()) < tol


# ----------------------------------------------- the same, against micrograd

def more_ops(V):
    """micrograd's test_more_ops program on a Value class; every node."""
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return [a, b, c, d, e, f, g]


def test_more_ops_node_for_node_as_micrograd():
    """micrograd's README example (also its test_more_ops): every node as micrograd's."""
    ours, theirs = more_ops(Value), more_ops(MValue)
    ours[-1].backward()
    theirs[-1].backward()
    for x, y in zip(ours, theirs):
        assert x.data == pytest.approx(y.data, rel=1e-13)
        assert x.grad == pytest.approx(y.grad, rel=1e-12)
    assert ours[-1].data == pytest.approx(24.70408163265306, rel=1e-15)
    assert (ours[0].grad, ours[1].grad) == pytest.approx((138.83381924198252, 645.5772594752186), rel=1e-13)


def sanity(V):
    """micrograd's test_sanity_check program: its own ops only (+, *, relu)."""
    x = V(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return [x, z, q, h, y]


def test_backward_twice_adds_up_as_in_micrograd():
    # the example: o = w*w at w = 2; a second backward gives 8, not 4
    w = Value(2.0)
    o = w * w
    o.backward()
    assert w.grad == 4.0
    o.backward()
    assert w.grad == 8.0
    # every node keeps its grad, so further calls compound exactly as micrograd's do
    ours, theirs = sanity(Value), sanity(MValue)
    for _ in range(3):
        ours[-1].backward()
        theirs[-1].backward()
        assert [v.grad for v in ours] == [v.grad for v in theirs]
    assert ours[-1].grad == 1.0        # the output's grad is set to 1, not added to
    assert [v.grad for v in ours] == [-54.0, -120.0, -18.0, 6.0, 1.0]   # micrograd's: 46, 94, then -54 for x
def test_grads_set_back_to_zero_start_again():
    def run(V):
        w = V(2.0)
        ww = w * w
        o = ww + w
        o.backward()
        o.backward()
        w.grad = 0              # only w: ww keeps what it had, as in micrograd
        o.backward()
        partly = w.grad
        w.grad = ww.grad = 0    # every node: a fresh start
        o.backward()
        return partly, w.grad

    assert run(Value) == run(MValue) == (13.0, 5.0)


# ------------------------------------------------ micrograd's nn.py, unchanged

def nn_module(value_class):
    """micrograd's nn.py, its source run unchanged but for the Value it imports."""
    source = inspect.getsource(micrograd_nn)
    assert "from micrograd.engine import Value" in source
    namespace = {"__name__": "nn_on_" + value_class.__module__, "Value": value_class}
    exec(compile(source.replace("from micrograd.engine import Value", ""), "nn.py", "exec"), namespace)
    assert namespace["Value"] is value_class and namespace["random"] is random
    return namespace


XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def train(value_class, zero_grad: bool, steps: int = 15, lr: float = 0.05, seed: int = 1337):
    """The lecture's training loop on micrograd's MLP (ReLU layers, a linear
    output); every loss, prediction, parameter and gradient of every step."""
    nn = nn_module(value_class)
    random.seed(seed)
    model = nn["MLP"](3, [4, 4, 1])
    record = []
    for _ in range(steps):
        ypred = [model(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
        if zero_grad:
            model.zero_grad()
        loss.backward()
        params = model.parameters()
        record.append((loss.data, [y.data for y in ypred], [p.grad for p in params]))
        for p in params:
            p.data += -lr * p.grad
        record.append(([p.data for p in params],))
    return record


@pytest.mark.parametrize("zero_grad", [True, False], ids=["zero_grad", "forgotten_zero_grad"])
def test_nn_training_loop_as_micrograd(zero_grad):
    ours, theirs = train(Value, zero_grad), train(MValue, zero_grad)
    assert len(ours) == len(theirs) == 30
    for mine, ref in zip(ours, theirs):
        for a, b in zip(mine, ref):
            if isinstance(a, list):
                assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
            else:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_forgotten_zero_grad_changes_the_numbers():
    """The lecture's bug is reproduced: without zero_grad the run differs."""
    good, bad = train(Value, True), train(Value, False)
    assert good[2][0] == bad[2][0]          # the first step is the same (every grad started at 0)
    assert good[2][2] != bad[2][2]          # the second backward adds to the first's grads
    assert good[4][0] != bad[4][0]          # so the loss after the second step differs


def test_mlp_parameters_and_repr_as_micrograd():
    nn = nn_module(Value)
    random.seed(0)
    model = nn["MLP"](3, [4, 4, 1])
    assert len(model.parameters()) == 41
    assert repr(model) == ("MLP of [Layer of [ReLUNeuron(3), ReLUNeuron(3), ReLUNeuron(3), ReLUNeuron(3)], "
                           "Layer of [ReLUNeuron(4), ReLUNeuron(4), ReLUNeuron(4), ReLUNeuron(4)], "
                           "Layer of [LinearNeuron(4)]]")


# ------------------------------------------------------------ the attributes

def test_constructor_and_attributes_as_micrograd():
    a = Value(2.0, label="a")
    b = Value(-3.0)
    c = Value(a.data * b.data, (a, b), "*", label="c")   # as micrograd's ops make their nodes
    assert (c.data, c.grad, c._op, c.label) == (-6.0, 0.0, "*", "c")
    assert list(c._prev) == [a, b]
    assert c._prev == {a, b}
    assert a in c._prev and Value(2.0) not in c._prev
    assert a._prev == set() and a._op == "" and len(a._prev) == 0
    c.backward()
    assert (a.grad, b.grad) == (-3.0, 2.0)
    assert Value(3).data == 3.0 and isinstance(Value(3).data, float)
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(a) == "Value(data=2.0, grad=-3.0, label='a')"


def test_prev_is_a_set_of_operands_in_order():
    a, b = Value(1.0), Value(2.0)
    assert list((b * a)._prev) == [b, a]
    twice = a + a
    assert list(twice._prev) == [a] and len(twice._prev) == 1   # micrograd's set((a, a)) is {a}
    assert twice.children == (a, a)                             # gradcli's operands keep both uses
    assert (b * a)._prev | {twice} == {a, b, twice}
    assert repr(twice._prev) == "{Value(data=1.0, grad=0.0)}"
    assert repr(a._prev) == "set()"


def test_ops_on_either_side_with_numbers_and_values():
    torch = pytest.importorskip("torch")
    a, b = Value(1.5), Value(-2.5)
    ta = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-2.5, dtype=torch.float64, requires_grad=True)

    def program(x, y, two):
        return [x + 2, 2 + x, x - 3, 3 - x, x * 4, 4 * x, x / 5, 5 / y, x ** 2, 2 ** x, x ** y.abs(),
                -x, +x, abs(y), x.max(y), x.min(two), x.pow(3)]

    ours = program(a, b, 2.0)
    theirs = program(ta, tb, torch.tensor(2.0, dtype=torch.float64))
    assert len(ours) == len(theirs)
    total = sum(ours[1:], ours[0])
    total.backward()
    ttotal = sum(theirs[1:], theirs[0])
    ttotal.backward()
    for x, y in zip(ours, theirs):
        assert x.data == pytest.approx(y.item(), rel=1e-14)
    assert total.data == pytest.approx(ttotal.item(), rel=1e-13)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-13)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-13)


@pytest.mark.parametrize("name,x", [
    ("exp", 0.7), ("log", 0.7), ("tanh", 0.7), ("relu", 0.7), ("relu", -0.7), ("sigmoid", -1.3),
    ("sqrt", 2.0), ("abs", -0.7), ("sin", 0.7), ("cos", 0.7), ("tan", 0.7), ("softplus", 0.3),
    ("log1p", 0.3)])
def test_function_methods_against_torch(name, x):
    torch = pytest.importorskip("torch")
    v = Value(x)
    out = getattr(v, name)()
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = getattr(torch.nn.functional, name)(t) if name == "softplus" else getattr(torch, name)(t)
    tout.backward()
    assert out._op == name and out._prev == {v}
    assert out.data == pytest.approx(tout.item(), rel=1e-15)
    assert v.grad == pytest.approx(t.grad.item(), rel=1e-14)


def test_value_as_exponent():
    x, y = Value(2.0), Value(3.0)
    z = x ** y
    z.backward()
    assert z.data == 8.0
    assert x.grad == 12.0                                     # y * x**(y-1)
    assert y.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)   # x**y * log(x)


def test_lecture_backward_one_node_at_a_time():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, b, x1w1x2w2, x2w2, x1w1):
        node._backward()
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-15)
    assert (x1.grad, w1.grad, x2.grad, w2.grad, b.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0, 0.5), rel=1e-14)


def test_lecture_draw_dot_runs_on_gradcli_values():
    """The lecture's trace/draw_dot, as written there, reads _prev, _op, label, data, grad."""
    graphviz = pytest.importorskip("graphviz")

    def trace(root):
        nodes, edges = set(), set()

        def build(v):
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    build(child)
        build(root)
        return nodes, edges

    def draw_dot(root):
        dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
        nodes, edges = trace(root)
        for n in nodes:
            uid = str(id(n))
            dot.node(name=uid, label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad), shape="record")
            if n._op:
                dot.node(name=uid + n._op, label=n._op)
                dot.edge(uid + n._op, uid)
        for n1, n2 in edges:
            dot.edge(str(id(n1)), str(id(n2)) + n2._op)
        return dot

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b; e.label = "e"
    d = e + c; d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f; L.label = "L"
    L.backward()
    source = draw_dot(L).source
    for text in ("{ a | data 2.0000 | grad 6.0000 }", "{ b | data -3.0000 | grad -4.0000 }",
                 "{ L | data -8.0000 | grad 1.0000 }", 'label="*"', 'label="+"'):
        assert text in source
    assert source.count("->") == 3 + 6        # op -> value, and the operands into the ops


def test_hundred_thousand_deep_chain_backpropagates():
    assert sys.getrecursionlimit() < 100_000
    x = Value(0.5, label="x")
    y = x
    for _ in range(100_000):
        y = y * 1.00001 + 0.0
    y.backward()
    assert y.data == pytest.approx(0.5 * 1.00001 ** 100_000, rel=1e-9)
    assert x.grad == pytest.approx(1.00001 ** 100_000, rel=1e-9)
    assert len(gradcli.engine.topological_order(y)) == 400_001   # 200,000 ops deep, and their numbers


def test_hand_built_order_is_deterministic():
    def build():
        a, b = Value(1.0, label="a"), Value(2.0, label="b")
        c = a * b; c.label = "c"
        d = c + a; d.label = "d"
        e = d * c; e.label = "e"
        return e
    orders = {tuple(n.label for n in gradcli.Graph.of(build()).nodes) for _ in range(20)}
    assert orders == {("a", "b", "c", "d", "e")}


def test_non_finite_derivative_is_ieee_as_in_pytorch():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()                  # no error: sqrt'(0) is infinite, as torch says
    assert x.grad == math.inf


# ------------------------------------------------------------- bad input

@pytest.mark.parametrize("call,message", [
    (lambda: Value("x"), "a Value's data is a number that fits a float, not 'x'"),
    (lambda: Value("2"), "a Value's data is a number that fits a float, not '2'"),
    (lambda: Value(None), "a Value's data is a number that fits a float, not None"),
    (lambda: Value(10 ** 400), "a Value's data is a number that fits a float, not 1000000"),
    (lambda: Value(1.0, (Value(1.0), 2.0), "+"), "a Value's operand must be a Value, not float `2.0`"),
    (lambda: Value(1.0, 5, "+"), "a Value's operands are a tuple of Values, not int `5`"),
    (lambda: Value(1.0, (Value(1.0),), 3), "an operation is named by a string, not int `3`"),
    (lambda: gradcli.Graph.of(3.0), "a graph is made from a Value, not float `3.0`"),
])
def test_bad_arguments_raise_input_errors(call, message):
    with pytest.raises(InputError) as e:
        call()
    assert e.value.message.startswith(message)


def test_an_unknown_operation_without_a_backward_says_so_at_backward():
    x = Value(1.0, label="x")
    y = Value(1.0, (x,), "ReLU", label="y")      # any _op is taken: the lecture assigns _backward next
    z = y * 2
    with pytest.raises(InputError) as e:
        z.backward()
    assert e.value.message == ("backward() cannot pass the gradient through the node `y`: its `_op` `ReLU` is "
                               "not one of gradcli's operations, and it has no `_backward` of its own")
    assert e.value.notes[0] == "did you mean `relu`?"
    assert e.value.notes[1].startswith("give it one, as the lecture does: `out._backward = _backward`")
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)      # raised before any grad changed
    with pytest.raises(InputError) as e:
        Value(2.0, (x,), "+").backward()
    assert e.value.message == ("backward() cannot pass the gradient through the node: its `_op` is `+` with 1 "
                               "operand, where gradcli's `+` takes 2, and it has no `_backward` of its own")
    with pytest.raises(InputError) as e:
        x._backward = 3
    assert e.value.message == "a Value's _backward is a function of no arguments, not int `3`"


def test_python_type_errors_for_other_types_as_for_numbers():
    with pytest.raises(TypeError):
        Value(1.0) + "x"
    with pytest.raises(TypeError):
        "x" * Value(1.0)
    with pytest.raises(TypeError):
        Value(1.0).max("x")
    with pytest.raises(TypeError):
        Value(1.0).exp(2.0)


def test_domain_errors_are_gradcli_errors():
    with pytest.raises(DomainError) as e:
        Value(-1.0).log()
    assert e.value.message == "log needs a positive number: `log(-1)`"
    with pytest.raises(DomainError):
        Value(1.0) / 0
    with pytest.raises(GradcliError):
        Value(1000.0).exp()


def test_division_by_zero_and_overflow_are_pythons_errors_too():
    """micrograd-era code catches Python's own errors: micrograd raises them
    (a float's division and pow, math.exp), so gradcli's are those too."""
    from micrograd.engine import Value as MicroValue

    for make in (Value, MicroValue):
        with pytest.raises(ZeroDivisionError):
            make(1.0) / 0
        with pytest.raises(ZeroDivisionError):
            make(0.0) ** -1
    for call in (lambda: Value(1.0) / 0, lambda: 1 / Value(0.0), lambda: Value(0.0) ** -1):
        with pytest.raises(ZeroDivisionError) as e:
            call()
        assert isinstance(e.value, DomainError) and e.value.exit_code == 1
        assert e.value.message.startswith("division by zero")
    for call in (lambda: Value(1000.0).exp(), lambda: Value(10.0) ** 400, lambda: Value(1e308) * 10):
        with pytest.raises(OverflowError) as e:
            call()
        assert isinstance(e.value, DomainError) and e.value.message.startswith("the result overflows")
    with pytest.raises(DomainError) as e:
        Value(-1.0).log()
    assert not isinstance(e.value, (ZeroDivisionError, OverflowError))


def test_an_error_in_value_arithmetic_ends_at_the_users_line():
    """The traceback: this test's line, the operator, and the one function
    that raises; not the engine's apply and evaluate."""
    import traceback

    try:
        Value(1.0) / 0
    except ZeroDivisionError as e:
        frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
    assert frames == ["test_an_error_in_value_arithmetic_ends_at_the_users_line", "__truediv__", "_binary"]
    try:
        Value(1000.0).exp()
    except OverflowError as e:
        frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
    assert frames == ["test_an_error_in_value_arithmetic_ends_at_the_users_line", "method", "_made"]


def test_type_hints_name_every_function_method():
    """py.typed: the methods made from the ops table are declared for type
    checkers too (engine.py's TYPE_CHECKING block), all of them."""
    import re

    from gradcli import FUNCTIONS, engine

    source = inspect.getsource(engine.Value)
    block = source[source.index("if TYPE_CHECKING:"):source.index("def backward(self)")]
    declared = set(re.findall(r"def (\w+)\(self", block))
    assert declared == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert callable(getattr(Value(0.5), name))


def test_labels_are_text():
    assert Value(1.0, label=3).label == "3" and Value(1.0, label=None).label == ""
    a = Value(1.0)
    a.label = 7                      # set by hand later, as the lecture sets its labels
    y = a * 2
    y.label = None
    g = gradcli.Graph.of(y)
    assert [n.label for n in g.nodes] == ["7", "", ""]
    assert "{ 7 · n0 | data 1 | grad 0 }" in gradcli.draw(y, "dot")


# ----------------------------------- an op of one's own, the lecture's way

# The lecture's own tanh, exp and pow, as it writes them inside its Value
# class (only `Value` made `type(self)`, so that the same lines run on
# micrograd's Value and on gradcli's).

def lecture_tanh(self):
    x = self.data
    t = (math.exp(2*x) - 1)/(math.exp(2*x) + 1)
    out = type(self)(t, (self, ), 'tanh')

    def _backward():
        self.grad += (1 - t**2) * out.grad
    out._backward = _backward
    return out


def lecture_exp(self):
    x = self.data
    out = type(self)(math.exp(x), (self, ), 'exp')

    def _backward():
        self.grad += out.data * out.grad
    out._backward = _backward
    return out


def lecture_pow(self, other):
    assert isinstance(other, (int, float)), "only supporting int/float powers for now"
    out = type(self)(self.data**other, (self,), f'**{other}')

    def _backward():
        self.grad += other * (self.data ** (other - 1)) * out.grad
    out._backward = _backward
    return out


def lecture_neuron(V, activation):
    x1, x2 = V(2.0), V(0.0)
    w1, w2 = V(-3.0), V(1.0)
    b = V(6.8813735870195432)
    n = x1*w1 + x2*w2 + b
    return [x1, x2, w1, w2, b, n], activation(n)


def exploded_tanh(n):
    """tanh as the lecture takes it apart, its division ``a * b**-1`` with
    the hand-written pow (the lecture's -1 * x and a + (-b) kept too)."""
    e = lecture_exp(2*n)
    return (e + (-1)) * lecture_pow(e + 1, -1)


@pytest.mark.parametrize("activation", [lecture_tanh, exploded_tanh,
                                        lambda n: lecture_pow(lecture_exp(n * 0.5), 3) * n])
def test_the_lectures_own_ops_give_micrograds_numbers(activation):
    ours, o = lecture_neuron(Value, activation)
    theirs, mo = lecture_neuron(MValue, activation)
    o.backward()
    mo.backward()
    assert o.data == pytest.approx(mo.data, rel=1e-15)
    for v, m in zip(ours, theirs):
        assert v.grad == pytest.approx(m.grad, rel=1e-12, abs=1e-15)
    if activation in (lecture_tanh, exploded_tanh):        # the lecture's numbers: o = 0.7071
        assert [v.grad for v in ours[:4]] == pytest.approx([-1.5, 0.5, 1.0, 0.0], rel=1e-9, abs=1e-15)


def test_an_op_of_ones_own_against_finite_differences():
    def cube(self):
        out = Value(self.data**3, (self,), 'cube')

        def _backward():
            self.grad += 3 * self.data**2 * out.grad
        out._backward = _backward
        return out

    def f(x0):
        x = Value(x0, label="x")
        return x, (cube(x) * x.sin()).tanh()

    x, y = f(0.7)
    y.backward()
    h = 1e-6
    assert x.grad == pytest.approx((f(0.7 + h)[1].data - f(0.7 - h)[1].data) / (2 * h), rel=1e-7)
    order = gradcli.engine.topological_order(y)   # _backward of each node, by hand, as the lecture does
    for v in order:
        v.grad = 0.0
    y.grad = 1.0
    for v in reversed(order):
        v._backward()
    first = x.grad
    x.grad = 0.0
    for v in order:
        v.grad = 0.0
    y.backward()
    assert first == x.grad


def test_an_op_of_ones_own_is_drawn_and_named_where_the_op_table_is_needed():
    from gradcli import codegen
    from gradcli.arrays import at_points

    a = Value(2.0, label="a")
    y = lecture_pow(a, 2) * 3
    y.label = "y"
    y.backward()
    assert a.grad == 12.0
    dot = gradcli.draw(y, "dot")
    assert 'label="**2"' in dot and "{ a · n0 | data 2 | grad 12 }" in dot
    graph = gradcli.Graph.of(y)
    assert graph.opaque is not None and graph.opaque.op == "**2"
    expected = ("needs gradcli's rules for every operation: in this graph, a node was made by an op of your "
                "own (`_op` `**2` is not one of gradcli's operations)")
    for feature, call in [("a Graph's own forward and backward", graph.gradients),
                          ("a Graph's own forward and backward", graph.forward),
                          ("code generation", lambda: codegen.generate(graph)),
                          ("the live page (it recomputes every node in the browser)", lambda: gradcli.draw(y, "html")),
                          ("many points at once (--at)", lambda: at_points(graph, {"a": [1.0, 2.0]}))]:
        with pytest.raises(InputError) as e:
            call()
        assert e.value.message == f"{feature} {expected}"
        assert e.value.notes[0].startswith("backward(), gradcli.draw(v) as 'svg', 'dot' or 'png'")
    if __import__("shutil").which("dot"):
        assert "**2" in gradcli.draw(y, "svg")


def test_a_known_op_with_its_own_backward_uses_it():
    x = Value(0.5)
    calls = []
    out = Value(math.tanh(x.data), (x,), "tanh")

    def _backward():
        calls.append(1)
        x.grad += 2.0 * out.grad         # deliberately not tanh's: the user's step is the one taken
    out._backward = _backward
    out.backward()
    assert x.grad == 2.0 and calls == [1]
    assert gradcli.Graph.of(out).gradients() == {"n0": pytest.approx(1 - math.tanh(0.5) ** 2)}


def test_numbers_have_gradients_as_micrograds_do():
    """The lecture: the numbers in an expression "all have gradients as
    well". micrograd makes a Value of the 3 in ``w * 3``; gradcli's number
    node gets the same grad."""
    for V in (Value, MValue):
        w = V(2.0)
        y = w * 3 + 1
        y.backward()
        product, one = sorted(y._prev, key=lambda v: -len(v._prev))   # micrograd's _prev is a set
        three = [v for v in product._prev if v is not w][0]
        assert (three.data, three.grad, one.data, one.grad, w.grad) == (3.0, 2.0, 1.0, 1.0, 3.0)


def test_backward_again_on_a_graph_micrograd_splits_warns():
    a, b = Value(3.0), Value(2.0)
    y = (a - b) * a
    y.backward()
    with pytest.warns(RuntimeWarning, match=r"micrograd makes `a - b`, `-a` and `a / b` of several nodes"):
        y.backward()
    w = Value(2.0)
    o = w * w + w
    o.backward()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        o.backward()                      # + and * only: micrograd's numbers, no warning
    for v in (a, b, y, *y._prev):
        v.grad = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward()                      # zeroed first: no warning

"""Study lists of chapters 1 to 4: functions, hand-written regression, the layer library, training tricks.

Conventions in the maths: rows are examples (``X`` is ``(N, in)``); ``G`` is the upstream gradient
``dL/dY``; weights use PyTorch's layout ``W (out, in)``, so a dense map is ``X W^T + b``.
"""

from __future__ import annotations

from parity_tests.study import Study

_OP = ("operations.Operation.forward", "operations.Operation.backward")
_PARAM_OP = (*_OP, "operations.ParamOperation.backward")
_LOSS = ("losses.Loss.forward", "losses.Loss.backward")
_SCHED = ("optimizers.LRScheduler.step",)
_STEP = ("optimizers.Optimizer.step",)

STUDIES: tuple[Study, ...] = (
    # chapter 1: functions and the chain rule
    Study("functions.square", "1 Functions", ("f(x) = x^2",), (r"\frac{\partial L}{\partial x} = 2x \odot G",)),
    Study(
        "functions.leaky_relu",
        "1 Functions",
        (r"f(x) = \max(x, \alpha x),\quad \alpha = 0.01",),
        (r"\frac{\partial L}{\partial x} = G \odot (1 \text{ if } x > 0 \text{ else } \alpha)",),
    ),
    Study(
        "functions.sigmoid",
        "1 Functions",
        (r"\sigma(x) = \frac{1}{1 + e^{-x}}",),
        (r"\frac{\partial L}{\partial x} = G \odot \sigma(x)(1 - \sigma(x))",),
    ),
    Study("functions.square_deriv", "1 Derivatives", ("f'(x) = 2x",), ("f''(x) = 2",)),
    Study(
        "functions.leaky_relu_deriv",
        "1 Derivatives",
        (r"f'(x) = 1 \text{ if } x > 0 \text{ else } \alpha",),
        (r"f''(x) = 0 \text{ (away from the kink at 0)}",),
    ),
    Study(
        "functions.sigmoid_deriv",
        "1 Derivatives",
        (r"\sigma'(x) = \sigma(x)(1 - \sigma(x))",),
        (r"\sigma''(x) = \sigma(x)(1 - \sigma(x))(1 - 2\sigma(x))",),
    ),
    Study(
        "functions.deriv",
        "1 Derivatives",
        (r"f'(x) \approx \frac{f(x + \Delta) - f(x - \Delta)}{2\Delta}",),
        (r"\text{error} = \frac{f'''(c)\,\Delta^2}{6} + O(\varepsilon / \Delta)",),
    ),
    Study("functions.chain", "1 Nested functions", (r"y = f_2(f_1(x))",), (r"\frac{dy}{dx} = f_2'(f_1(x))\, f_1'(x)",)),
    Study(
        "functions.chain_deriv",
        "1 The chain rule",
        (r"\frac{d}{dx} f_3(f_2(f_1(x))) = f_3'(f_2(f_1(x)))\, f_2'(f_1(x))\, f_1'(x)",),
        (r"\text{(a derivative itself: its parity check compares values)}",),
    ),
    Study(
        "functions.matmul_forward",
        "1 Functions with multiple inputs",
        (r"N = X W",),
        (r"\frac{\partial L}{\partial X} = G W^{\top}", r"\frac{\partial L}{\partial W} = X^{\top} G"),
        helpers=("functions.matmul_backward",),
        torch_helpers=("functions.matmul_backward",),
    ),
    Study(
        "functions.sigmoid_matmul_forward",
        "1 Functions with multiple inputs",
        (r"S = \sigma(X W)",),
        (r"\frac{\partial L}{\partial X} = (G \odot S(1 - S)) W^{\top}",),
        helpers=("functions.sigmoid_matmul_backward",),
    ),
    Study(
        "functions.sigmoid_matmul_sum_forward",
        "1 Matrix functions to a number",
        (r"L = \sum_{i,j} \sigma(X W)_{ij}",),
        (r"\frac{\partial L}{\partial X} = S(1 - S)\, W^{\top}", r"\frac{\partial L}{\partial W} = X^{\top} S(1 - S)"),
        helpers=("functions.sigmoid_matmul_sum_backward",),
    ),
    Study(
        "functions.matmul_backward",
        "1 Functions with multiple inputs",
        (r"\frac{\partial L}{\partial X} = G W^{\top},\quad \frac{\partial L}{\partial W} = X^{\top} G",),
        (r"\text{(a gradient itself: its parity check compares it with autograd)}",),
        torch_helpers=("functions._grads",),
    ),
    Study(
        "functions.sigmoid_matmul_backward",
        "1 Functions with multiple inputs",
        (r"\frac{\partial L}{\partial X} = (G \odot S(1 - S)) W^{\top},\quad S = \sigma(X W)",),
        (r"\text{(a gradient itself)}",),
        torch_helpers=("functions._grads",),
    ),
    Study(
        "functions.sigmoid_matmul_sum_backward",
        "1 Matrix functions to a number",
        (r"\frac{\partial L}{\partial X} = S(1 - S) W^{\top},\quad \frac{\partial L}{\partial W} = X^{\top} S(1 - S)",),
        (r"\text{(a gradient itself)}",),
        torch_helpers=("functions._grads",),
    ),
    # chapter 2: regression by hand
    Study(
        "regression.linear_regression_forward",
        "2 Linear regression",
        (r"P = X w^{\top} + b", r"L = \frac{1}{N} \sum_n (P_n - y_n)^2"),
        (
            r"dP = \frac{2 (P - y)}{N}",
            r"\frac{\partial L}{\partial w} = dP^{\top} X,\quad \frac{\partial L}{\partial b} = \sum_n dP_n",
        ),
        helpers=("regression._linear", "regression._mse"),
        torch_helpers=("regression._linear",),
        experiments=("chapter2",),
    ),
    Study(
        "regression.two_layer_forward",
        "2 Neural networks from scratch",
        (r"O_1 = \sigma(X W_1^{\top} + b_1)", r"P = O_1 W_2^{\top} + b_2", r"L = \frac{1}{N} \sum_n (P_n - y_n)^2"),
        (r"dP = \frac{2 (P - y)}{N},\quad dO_1 = dP\, W_2,\quad dN_1 = dO_1 \odot O_1 (1 - O_1)",),
        helpers=("regression._two_layer", "regression._mse"),
        torch_helpers=("regression._two_layer",),
        experiments=("chapter2",),
    ),
    Study(
        "regression.linear_regression_gradients",
        "2 Linear regression",
        (
            r"dP = \frac{2 (P - y)}{N}",
            r"\frac{\partial L}{\partial w} = dP^{\top} X,\quad \frac{\partial L}{\partial b} = \sum_n dP_n",
        ),
        (r"\text{(gradients themselves; the torch twin takes them from autograd)}",),
        torch_helpers=("regression._autograd",),
        experiments=("chapter2",),
    ),
    Study(
        "regression.two_layer_gradients",
        "2 Neural networks from scratch",
        (
            r"\frac{\partial L}{\partial W_2} = dP^{\top} O_1,\quad \frac{\partial L}{\partial b_2} = \sum_n dP_n",
            r"dN_1 = (dP\, W_2) \odot O_1 (1 - O_1)",
            r"\frac{\partial L}{\partial W_1} = dN_1^{\top} X,\quad \frac{\partial L}{\partial b_1} = \sum_n dN_1",
        ),
        (r"\text{(gradients themselves; the torch twin takes them from autograd)}",),
        torch_helpers=("regression._autograd",),
        experiments=("chapter2",),
    ),
    Study(
        "regression.predict",
        "2 Evaluating the model",
        (r"P = X w^{\top} + b \quad\text{or}\quad P = \sigma(X W_1^{\top} + b_1) W_2^{\top} + b_2",),
        (r"\text{(no gradient: used on test data)}",),
        helpers=("regression._linear", "regression._two_layer"),
    ),
    Study(
        "regression.train",
        "2 Training the model",
        (r"\theta \leftarrow \theta - \eta \frac{\partial L_{\text{batch}}}{\partial \theta}",),
        (r"\text{gradients: } \texttt{*\_gradients} \text{ (scratch), autograd (torch)}",),
        helpers=("regression.forward", "regression.gradients"),
        experiments=("chapter2",),
    ),
    # chapter 3: the layer library
    Study(
        "trainer.Trainer",
        "3 Trainer",
        (
            r"\text{each epoch: permute the rows; for each batch } B\text{: } L_B = \text{loss}(f(X_B), Y_B)",
            r"\theta \leftarrow \text{step}(\theta, \partial L_B / \partial \theta)",
        ),
        (r"\text{every } k \text{ epochs: evaluate; stop and restore the best model when the test loss rises}",),
        helpers=("trainer.Trainer.iter_fit", "network.NeuralNetwork.train_batch"),
        torch_helpers=("trainer.Trainer.iter_fit",),
        experiments=("boston", "mnist"),
    ),
    Study(
        "layers.Dense",
        "3 Layers: Dense",
        (r"A = X W^{\top} + b", r"Y = \text{act}(A)"),
        (
            r"G_A = \text{act}'(A) \odot G",
            r"\frac{\partial L}{\partial X} = G_A W,\quad \frac{\partial L}{\partial W} = G_A^{\top} X,"
            r"\quad \frac{\partial L}{\partial b} = \sum_n G_A",
        ),
        helpers=(
            "layers.Layer.forward",
            "layers.Layer.backward",
            "operations.WeightMultiply",
            "operations.BiasAdd",
            "activations.Sigmoid",
            *_PARAM_OP,
        ),
        torch_maths=(r"A = X W^{\top} + b \quad(\texttt{nn.Linear})", r"Y = \text{act}(A)"),
        experiments=("boston", "mnist"),
    ),
    Study(
        "losses.MeanSquaredError",
        "3 Loss: mean squared error",
        (r"L = \frac{1}{N D} \sum_{n,d} (P_{nd} - Y_{nd})^2 \quad(\text{book: } \tfrac{1}{N} \textstyle\sum)",),
        (r"\frac{\partial L}{\partial P} = \frac{2 (P - Y)}{N D}",),
        helpers=_LOSS,
        torch_maths=(r"L = \frac{1}{N D} \sum_{n,d} (P_{nd} - Y_{nd})^2 \quad(\texttt{F.mse\_loss})",),
        experiments=("boston", "mnist"),
    ),
    Study(
        "network.NeuralNetwork",
        "3 NeuralNetwork",
        (r"Y = f_K(\cdots f_2(f_1(X))),\quad L = \text{loss}(Y, T)",),
        (r"G_{k-1} = f_k^{\text{backward}}(G_k),\ k = K, \ldots, 1,\quad G_K = \partial L / \partial Y",),
        experiments=("boston",),
    ),
    Study(
        "operations.WeightMultiply",
        "3 Operations",
        (r"Y = X W^{\top}",),
        (r"\frac{\partial L}{\partial X} = G W,\quad \frac{\partial L}{\partial W} = G^{\top} X",),
        helpers=_PARAM_OP,
        experiments=("boston",),
    ),
    Study(
        "operations.BiasAdd",
        "3 Operations",
        (r"Y = X + b",),
        (r"\frac{\partial L}{\partial X} = G,\quad \frac{\partial L}{\partial b} = \sum_n G_n",),
        helpers=_PARAM_OP,
        experiments=("boston",),
    ),
    Study("activations.Linear", "3 Activations", (r"Y = X",), (r"\frac{\partial L}{\partial X} = G",), helpers=_OP),
    Study(
        "activations.Sigmoid",
        "3 Activations",
        (r"Y = \sigma(X) = \frac{1}{1 + e^{-X}}",),
        (r"\frac{\partial L}{\partial X} = G \odot Y (1 - Y)",),
        helpers=("activations.stable_sigmoid", *_OP),
        experiments=("boston",),
    ),
    Study(
        "optimizers.SGD",
        "3 Optimizer: SGD",
        (r"\theta \leftarrow \theta - \eta\, g",),
        (r"\text{(an update rule: no gradient of its own)}",),
        helpers=_STEP,
        experiments=("boston",),
    ),
    # chapter 4: training tricks
    Study(
        "layers.Dropout",
        "4 Dropout",
        (
            r"\text{train: } Y = \frac{X \odot M}{1 - p},\quad M \sim"
            r" \text{Bernoulli}(1 - p);\quad \text{eval: } Y = X",
            r"\text{book: train } Y = X \odot M,\ M \sim \text{Bernoulli}(k);\ \text{eval } Y = k X",
        ),
        (r"\frac{\partial L}{\partial X} = \frac{G \odot M}{1 - p} \quad(\text{book: } G \odot M)",),
        experiments=("mnist",),
    ),
    Study(
        "init.dense_init",
        "4 Weight initialization",
        (
            r"W \sim \mathcal{N}(0, s^2),\quad s = 1 \text{ (standard)},\ s ="
            r" \sqrt{\frac{2}{n_{in} + n_{out}}} \text{ (Glorot)}",
            r"\text{book's Glorot: } s = \frac{2}{n_{in} + n_{out}} \text{ (no square root)}",
        ),
        (r"\text{(initialisation: no gradient)}",),
        helpers=("init.init_std", "init.draw"),
        torch_helpers=("init.init_std", "init.draw"),
        experiments=("mnist",),
    ),
    Study(
        "init.conv_init",
        "5 Convolution weights",
        (
            r"W \sim \mathcal{N}(0, s^2),\ s = \sqrt{\frac{2}{(C_{in} + C_{out}) k^2}} \text{ (Glorot, torch's fans)}",
            r"\text{book's Glorot: } s = \frac{2}{C_{in} + C_{out}} \text{ (channels only, no square root)}",
        ),
        (r"\text{(initialisation: no gradient)}",),
        helpers=("init.conv_fans", "init.draw"),
        torch_helpers=("init.conv_fans",),
        experiments=("cnn",),
    ),
    Study(
        "losses.SoftmaxCrossEntropy",
        "4 Softmax cross-entropy",
        (r"p = \text{softmax}(Z),\quad L = -\frac{1}{N} \sum_{n,k} Y_{nk} \log p_{nk}",),
        (r"\frac{\partial L}{\partial Z} = \frac{p - Y}{N} \quad(\text{one-hot or probability rows})",),
        helpers=("losses.log_softmax", *_LOSS),
        torch_maths=(
            r"L = -\frac{1}{N} \sum_{n,k} Y_{nk} \log \text{softmax}(Z)_{nk} \quad(\texttt{F.cross\_entropy})",
        ),
        experiments=("mnist",),
    ),
    Study(
        "activations.Tanh",
        "4 Activations",
        (r"Y = \tanh(X)",),
        (r"\frac{\partial L}{\partial X} = G \odot (1 - Y^2)",),
        helpers=_OP,
        experiments=("mnist",),
    ),
    Study(
        "activations.ReLU",
        "4 Activations",
        (r"Y = \max(0, X)",),
        (r"\frac{\partial L}{\partial X} = G \odot \mathbb{1}[X > 0]",),
        helpers=_OP,
    ),
    Study(
        "optimizers.SGDMomentum",
        "4 Momentum",
        (
            r"b \leftarrow \mu b + g,\quad \theta \leftarrow \theta - \eta b",
            r"\text{book: } v \leftarrow \mu v + \eta g,\ \theta \leftarrow \theta - v",
        ),
        (r"\text{(an update rule: no gradient of its own)}",),
        helpers=_STEP,
        experiments=("mnist",),
    ),
    Study(
        "optimizers.LinearDecay",
        "4 Learning rate decay",
        (r"\eta_e = \eta_0 - e\, \frac{\eta_0 - \eta_F}{E - 1},\quad e = 0, \ldots, E - 1",),
        (r"\text{(a schedule: no gradient)}",),
        helpers=_SCHED,
        experiments=("mnist",),
    ),
    Study(
        "optimizers.ExponentialDecay",
        "4 Learning rate decay",
        (r"\eta_e = \eta_0 \left(\frac{\eta_F}{\eta_0}\right)^{e / (E - 1)}",),
        (r"\text{(a schedule: no gradient)}",),
        helpers=_SCHED,
        experiments=("mnist",),
    ),
)

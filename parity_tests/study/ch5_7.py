"""Study lists of chapters 5 to 7: convolution, autodiff and recurrent networks, PyTorch and autoencoders.

Conventions: images are NCHW; a convolution is a cross-correlation with "same" padding ``P`` and
stride 1 unless its options say otherwise; recurrent weights use PyTorch's layouts and gate orders
(``i, f, g, o`` for the LSTM, ``r, z, n`` for the GRU); ``G`` is the upstream gradient.
"""

from __future__ import annotations

from parity_tests.study import Study

_OP = ("operations.Operation.forward", "operations.Operation.backward")
_CONV = ("conv.conv2d_forward", "conv._im2col", "conv.conv2d_backward", "conv._grad_input", "conv._grad_weight")
_CONV_FWD = r"Y_{n,o,i,j} = b_o + \sum_{c,u,v} X^{pad}_{n,c,i+u,j+v}\, W_{o,c,u,v}"
_CONV_BWD = (
    r"\frac{\partial L}{\partial W_{o,c,u,v}} = \sum_{n,i,j} G_{n,o,i,j}\, X^{pad}_{n,c,i+u,j+v},"
    r"\quad \frac{\partial L}{\partial b_o} = \sum_{n,i,j} G_{n,o,i,j}",
    r"\frac{\partial L}{\partial X^{pad}_{n,c,y,x}} = \sum_{o,u,v} G_{n,o,y-u,x-v}\, W_{o,c,u,v}"
    r" \quad(\text{the padded } G \text{ correlated with the flipped kernel})",
)
_TIME = ("rnn._RecurrentLayer.forward", "rnn.forward_through_time", "rnn._RecurrentLayer.backward")
_BPTT = ("rnn.backward_through_time", "rnn.grad_reaching_state", "_recurrent_cell.RecurrentCell.input_projection")
_THROUGH_TIME = (r"h_t = \text{cell}(x_t, h_{t-1}),\quad t = 1, \ldots, T",)
_BACK_THROUGH_TIME = (
    r"\frac{\partial L}{\partial h_t} = G_t + \frac{\partial"
    r" L}{\partial h_{t+1}} \frac{\partial h_{t+1}}{\partial h_t}",
    r"\frac{\partial L}{\partial W} = \sum_t \frac{\partial L}{\partial h_t} \frac{\partial h_t}{\partial W}"
    r" \quad(\text{every step shares the weights})",
)
_RNN = (r"h' = \tanh(x W_{ih}^{\top} + b_{ih} + h W_{hh}^{\top} + b_{hh})",)
_RNN_BWD = (
    r"dA = G_{h'} \odot (1 - h'^2)",
    r"\frac{\partial L}{\partial h} = dA\, W_{hh},\quad \frac{\partial L}{\partial x} = dA\, W_{ih},"
    r"\quad \frac{\partial L}{\partial W_{hh}} = dA^{\top} h,\quad \frac{\partial L}{\partial W_{ih}} = dA^{\top} x",
)
_GRU = (
    r"r = \sigma(x W_{ir}^{\top} + b_{ir} + h W_{hr}^{\top} + b_{hr}),\quad"
    r" z = \sigma(x W_{iz}^{\top} + b_{iz} + h W_{hz}^{\top} + b_{hz})",
    r"n = \tanh(x W_{in}^{\top} + b_{in} + r \odot (h W_{hn}^{\top} + b_{hn}))",
    r"h' = (1 - z) \odot n + z \odot h",
)
_GRU_BWD = (
    r"dn = G \odot (1 - z) \odot (1 - n^2),\quad dz = G \odot (h - n) \odot z (1 - z)",
    r"dr = dn \odot (h W_{hn}^{\top} + b_{hn}) \odot r (1 - r)",
    r"\frac{\partial L}{\partial h} = G \odot z + dr\, W_{hr} + dz\, W_{hz} + (dn \odot r) W_{hn}",
)
_LSTM = (
    r"i = \sigma(a_i),\ f = \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o),"
    r"\quad a = x W_{ih}^{\top} + b_{ih} + h W_{hh}^{\top} + b_{hh}",
    r"c' = f \odot c + i \odot g,\quad h' = o \odot \tanh(c')",
)
_LSTM_BWD = (
    r"dc' = G_{c'} + G_{h'} \odot o \odot (1 - \tanh^2 c')",
    r"da_o = G_{h'} \odot \tanh(c') \odot o (1 - o),\quad da_i = dc' \odot g \odot i (1 - i)",
    r"da_f = dc' \odot c \odot f (1 - f),\quad da_g = dc' \odot i \odot (1 - g^2)",
    r"\frac{\partial L}{\partial c} = dc' \odot f,\quad \frac{\partial L}{\partial h} = da\, W_{hh},"
    r"\quad \frac{\partial L}{\partial x} = da\, W_{ih}",
)
_CHARLM = ("charlm",)

STUDIES: tuple[Study, ...] = (
    # chapter 5: convolution
    Study(
        "conv.conv2d", "5 The multichannel convolution", (_CONV_FWD,), _CONV_BWD, helpers=_CONV, experiments=("cnn",)
    ),
    Study(
        "conv.conv2d_loops",
        "5 The convolution, written with loops",
        (_CONV_FWD,),
        _CONV_BWD,
        helpers=("conv.conv2d_loops_forward", "conv.conv2d_loops_backward"),
    ),
    Study("conv.Conv2d", "5 The convolution as an operation", (_CONV_FWD,), _CONV_BWD, helpers=_CONV),
    Study(
        "layers.Flatten",
        "5 Flatten",
        (r"Y = \text{reshape}(X, (N, C H W))",),
        (r"\frac{\partial L}{\partial X} = \text{reshape}(G, (N, C, H, W))",),
        helpers=_OP,
        experiments=("cnn",),
    ),
    Study(
        "layers.Conv2D",
        "5 The Conv2D layer",
        (_CONV_FWD, r"\text{then the activation, optional flatten and dropout}"),
        (r"G_A = \text{act}'(A) \odot G", *_CONV_BWD),
        helpers=("layers.Conv2D.forward", "layers.Conv2D.backward", "conv.Conv2d"),
        torch_helpers=("conv.Conv2d",),
        experiments=("cnn",),
    ),
    Study(
        "pooling.MaxPool2d",
        "5 Pooling",
        (r"Y_{n,c,i,j} = \max_{u,v} X_{n,c,si+u,sj+v}",),
        (r"\frac{\partial L}{\partial X} = G \text{ routed to each window's maximum (zero elsewhere)}",),
        helpers=("pooling._Pool2d._windows", *_OP),
    ),
    Study(
        "pooling.AvgPool2d",
        "5 Pooling",
        (r"Y_{n,c,i,j} = \frac{1}{k^2} \sum_{u,v} X_{n,c,si+u,sj+v}",),
        (r"\frac{\partial L}{\partial X_{n,c,si+u,sj+v}} \mathrel{+}= \frac{G_{n,c,i,j}}{k^2}",),
        helpers=("pooling._Pool2d._windows", *_OP),
    ),
    # chapter 6: autodiff and recurrent networks
    Study(
        "autodiff.NumberWithGrad",
        "6 Automatic differentiation",
        (r"\text{each operation records its parents } p \text{ and local derivatives } \partial v / \partial p",),
        (
            r"\bar{v} = \frac{\partial L}{\partial v},\quad \bar{p}"
            r" \mathrel{+}= \bar{v}\, \frac{\partial v}{\partial p}"
            r" \text{ in reverse topological order (each node once)}",
        ),
        helpers=("autodiff.NumberWithGrad._topological_order", "autodiff.NumberWithGrad.backward"),
    ),
    Study(
        "charlm.RecurrentLayer",
        "6 RNN layers",
        (
            *_THROUGH_TIME,
            r"Y = H W_v^{\top} + b_v",
            r"h_0 \leftarrow \text{mean}_n\, h_T[n] \text{ (carried, detached)}",
        ),
        (
            r"\frac{\partial L}{\partial H} = G W_v,\quad \frac{\partial L}{\partial W_v} = \sum_{n,t} G^{\top} H",
            *_BACK_THROUGH_TIME,
        ),
        helpers=("charlm.RecurrentLayer.forward", "charlm.RecurrentLayer.backward", "rnn.LSTM"),
        experiments=_CHARLM,
    ),
    Study(
        "charlm.CharLM",
        "6 The character model",
        (r"\text{logits} = \text{layer}_K(\cdots \text{layer}_1(X))",),
        (r"\text{gradients through the layers in reverse}",),
        helpers=("charlm.CharLM.forward", "charlm.CharLM.backward", "charlm.RecurrentLayer"),
        experiments=_CHARLM,
    ),
    Study(
        "optimizers.AdaGrad",
        "6 AdaGrad",
        (
            r"s \leftarrow s + g^2,\quad \theta \leftarrow \theta - \eta \frac{g}{\sqrt{s} + \epsilon}",
            r"\text{book: } s \leftarrow s + 10^{-7} + g^2,\ \theta \leftarrow \theta - \eta \frac{g}{\sqrt{s}}",
        ),
        (r"\text{(an update rule: no gradient of its own)}",),
        helpers=("optimizers.Optimizer.step",),
        experiments=_CHARLM,
    ),
    Study(
        "optimizers.Adam",
        "7 Adam (the chapter's LSTM model)",
        (
            r"g \leftarrow g + \lambda \theta,\quad m \leftarrow \beta_1 m + (1 - \beta_1) g,"
            r"\quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2",
            r"\hat m = \frac{m}{1 - \beta_1^t},\quad \hat v = \frac{v}{1 - \beta_2^t},"
            r"\quad \theta \leftarrow \theta - \eta \frac{\hat m}{\sqrt{\hat v} + \epsilon}",
        ),
        (r"\text{(an update rule: no gradient of its own)}",),
        helpers=("optimizers.Optimizer.step",),
        experiments=("chapter7",),
    ),
    Study(
        "optimizers.clip_grad_value_",
        "6 Gradient clipping",
        (r"g \leftarrow \min(\max(g, -c), c)",),
        (r"\text{(acts on gradients in place)}",),
        helpers=("optimizers._with_grads",),
        experiments=_CHARLM,
    ),
    Study(
        "optimizers.clip_grad_norm_",
        "6 Gradient clipping",
        (r"g \leftarrow g \cdot \min\left(1, \frac{c}{\lVert g \rVert_2 + 10^{-6}}\right)",),
        (r"\text{(acts on gradients in place; the norm is over every parameter's gradient)}",),
        helpers=("optimizers._with_grads",),
    ),
    Study(
        "rnn_cells.RNNCell",
        "6 The vanilla RNN cell",
        _RNN,
        _RNN_BWD,
        helpers=("rnn_cells.rnn_step", "rnn_cells.rnn_step_backward", "_recurrent_cell.RecurrentCell.forward"),
    ),
    Study(
        "rnn_cells.GRUCell",
        "6 The GRU cell",
        _GRU,
        _GRU_BWD,
        helpers=("rnn_cells.gru_step", "rnn_cells.gru_step_backward", "rnn_cells.book_gru_step"),
        torch_helpers=("rnn_cells.book_gru_cell",),
    ),
    Study(
        "rnn_cells.LSTMCell",
        "6 The LSTM cell",
        _LSTM,
        _LSTM_BWD,
        helpers=("rnn_cells.lstm_step", "rnn_cells.lstm_step_backward", "_recurrent_cell.RecurrentCell.forward"),
    ),
    Study(
        "rnn.RNN",
        "6 RNN layers",
        (*_THROUGH_TIME, *_RNN),
        (*_BACK_THROUGH_TIME, *_RNN_BWD),
        helpers=(*_TIME, *_BPTT, "rnn_cells.rnn_step", "rnn_cells.rnn_step_backward"),
    ),
    Study(
        "rnn.GRU",
        "6 RNN layers",
        (*_THROUGH_TIME, *_GRU),
        (*_BACK_THROUGH_TIME, *_GRU_BWD),
        helpers=(*_TIME, *_BPTT, "rnn_cells.gru_step", "rnn_cells.gru_step_backward"),
        experiments=_CHARLM,
    ),
    Study(
        "rnn.LSTM",
        "6 RNN layers",
        (*_THROUGH_TIME, *_LSTM),
        (*_BACK_THROUGH_TIME, *_LSTM_BWD),
        helpers=("rnn.LSTM.forward", *_TIME, *_BPTT, "rnn_cells.lstm_step", "rnn_cells.lstm_step_backward"),
        experiments=_CHARLM,
    ),
    Study(
        "losses.SequenceSoftmaxCrossEntropy",
        "6 The sequence loss",
        (
            r"L = -\frac{1}{D} \sum_{n,t,k} Y_{ntk} \log"
            r" \text{softmax}(Z_{nt})_k,\quad D = N T \text{ (mean) or } 1 \text{ (sum, the book)}",
        ),
        (r"\frac{\partial L}{\partial Z_{nt}} = \frac{\text{softmax}(Z_{nt}) - Y_{nt}}{D}",),
        helpers=("losses.SoftmaxCrossEntropy", "losses.SequenceSoftmaxCrossEntropy.backward"),
        experiments=_CHARLM,
    ),
    # chapter 7: PyTorch, autoencoders
    Study(
        "autoencoder.Unflatten",
        "7 The autoencoder",
        (r"Y = \text{reshape}(X, (N, C, H, W))",),
        (r"\frac{\partial L}{\partial X} = \text{reshape}(G, (N, C H W))",),
        helpers=_OP,
        experiments=("autoencoder",),
    ),
    Study(
        "autoencoder.ConvAutoencoder",
        "7 The autoencoder",
        (r"z = \text{enc}(x) \in \mathbb{R}^{d},\quad \hat{x} = \text{dec}(z),\quad L = \text{MSE}(\hat{x}, x)",),
        (
            r"\frac{\partial L}{\partial \theta_{enc}} = \frac{\partial"
            r" L}{\partial z} \frac{\partial z}{\partial \theta_{enc}}"
            r" \text{ (the decoder's backward feeds the encoder's)}",
        ),
        helpers=(
            "autoencoder._Chain.forward",
            "autoencoder._Chain.backward",
            "autoencoder.Encoder",
            "autoencoder.Decoder",
        ),
        torch_helpers=("autoencoder.Encoder", "autoencoder.Decoder"),
        experiments=("autoencoder",),
    ),
    Study(
        "pytorch_trainer.PyTorchTrainer",
        "7 The PyTorch trainer",
        (
            r"\text{per batch: } L = \text{criterion}(\text{model}(X_B), Y_B);"
            r"\ \text{backward};\ \theta \leftarrow \text{step}(\theta)",
        ),
        (r"\text{gradients: the model's backward (scratch), autograd (torch)}",),
        helpers=("pytorch_trainer.PyTorchTrainer.iter_fit", "pytorch_trainer.PyTorchTrainer.train_step"),
        torch_helpers=("pytorch_trainer.PyTorchTrainer.iter_fit", "pytorch_trainer.PyTorchTrainer.train_step"),
        experiments=("chapter7",),
    ),
    Study(
        "cnn7.MNISTConvNet",
        "7 A CNN in PyTorch (MNIST)",
        (
            r"H_1 = \text{drop}(\tanh(\text{conv}_{5\times 5}(X) + b_1)),\quad"
            r" H_2 = \text{drop}(\tanh(\text{conv}_{5\times 5}(H_1) + b_2))",
            r"H_3 = \text{drop}(\tanh(\text{flat}(H_2) W_3^\top + b_3)),\quad Z = H_3 W_4^\top + b_4",
        ),
        (r"\text{each layer's backward in reverse order (conv: correlation with the flipped kernel)}",),
        helpers=("cnn7.MNISTConvNet.forward", "cnn7.MNISTConvNet.backward"),
        torch_helpers=("cnn7.MNISTConvNet.forward",),
        experiments=("chapter7",),
    ),
    Study(
        "lstm7.NextCharLSTM",
        "7 An LSTM in PyTorch (next character)",
        (
            r"H = \text{LSTM}(X, (h_0, c_0)),\quad Z = H W^\top + b",
            r"(h_0, c_0) \leftarrow \text{mean}_n (h_L, c_L) \text{ (detached, for the next batch)}",
        ),
        (r"\text{backward through time; the carried state is detached}",),
        helpers=("lstm7.NextCharLSTM.forward", "lstm7.NextCharLSTM.backward", "lstm7.train_step"),
        torch_helpers=("lstm7.NextCharLSTM.forward", "lstm7.train_step"),
        experiments=("chapter7",),
    ),
    Study(
        "lstm7.CrossEntropyLoss",
        "7 Cross-entropy over a sequence",
        (r"L = -\frac{1}{N L} \sum_{n, t} \log \text{softmax}(Z_{n t})_{y_{n t}}",),
        (r"\frac{\partial L}{\partial Z_{n t}} = \frac{\text{softmax}(Z_{n t}) - e_{y_{n t}}}{N L}",),
        helpers=("lstm7.CrossEntropyLoss.forward", "lstm7.CrossEntropyLoss.backward"),
        torch_maths=(r"\texttt{nn.CrossEntropyLoss} \text{ on logits } (N, V, L)",),
        experiments=("chapter7",),
    ),
)

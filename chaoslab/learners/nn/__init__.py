"""The ``torch.nn.Module`` classes of chaoslab's neural learners.

One module per network family; each imports torch at its top and defines its classes at
module level (so they pickle, deep-copy and show in tracebacks under their own names).
Importing this package imports no torch: the learners in :mod:`chaoslab.learners` import
these modules inside the methods that build a network, so ``import chaoslab.learners``
and ``cl.learners.make(...)`` stay free of torch until ``fit`` or ``load``.

``lstm``
    :class:`~chaoslab.learners.nn.lstm.LSTMNet`, stacked LSTM cells with an increment head.
``transformer``
    :class:`~chaoslab.learners.nn.transformer.TransformerNet` and its causal blocks.
``mamba``
    :class:`~chaoslab.learners.nn.mamba.MambaNet`, selective state-space blocks.
``node``
    :class:`~chaoslab.learners.nn.node.VectorField`, the neural ODE's MLP vector field.
``plrnn``
    :class:`~chaoslab.learners.nn.plrnn.PLRNNCell` (the AL-RNN map) and
    :class:`~chaoslab.learners.nn.plrnn.ShallowPLRNNCell` (the shPLRNN).
"""

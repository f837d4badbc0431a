"""The learner's tools, built on the core's public step and the layers' caches (they import only the core).

    gradcheck.py       numerical gradient checks of any model, layer by layer (gradcheck_*.py: its pieces)
    trace.py           one training step, printed number by number; trace_graph.py makes it a graph of
                       operations, trace_plot.py draws that graph
    sanity.py          the checks to run before a long training (loss at init, overfitting a batch ...)
    scalar.py          a scalar autodiff engine, to see backprop on single numbers first
    evaluation.py      confusion matrix, classification report, ROC curves
    gradient_stats.py  GradientStats: gradient and activation statistics per layer during fit
    plot.py            matplotlib pictures of histories, traces, gradients (loaded on first use)
"""

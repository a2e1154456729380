"""PyTorch twin of *Deep Learning from Scratch* (Weidman, 2019): the same components, idiomatic torch.

Same module stems and public names as ``scratch``; gradients come from autograd.
"""

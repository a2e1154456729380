"""NumPy twin of *Deep Learning from Scratch* (Weidman, 2019): every component from first principles.

Imports numpy only. Each module names its book chapter and its PyTorch twin in ``torch_ref``.
"""

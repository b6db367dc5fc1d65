"""Embedding backends: torch (sentence-transformers), onnx and onnx-int8 (onnxruntime), chosen by config.

Data flow: `backends.py` turns the config into a lazily loaded embedder; `cache.py` keeps the one-time ONNX export
(`export.py`, in a child process) on disk; `gate.py` measures the ONNX backends against torch for `auto`;
`pooling.py` reproduces the model folder's pooling; `onnx_backend.py` and `torch_backend.py` run the model.
"""

"""The Polyglot evaluator: task cards, model backends, scoring and result files.

Importable with torch, transformers, pandas and pyarrow alone (no Gradio, no DuckDB), so that it
runs on a bare GPU machine.
"""

# 1.1.0: multiple-choice continuations are the tail of the joint encoding (lm-eval's split).
ENGINE_VERSION = "1.1.0"

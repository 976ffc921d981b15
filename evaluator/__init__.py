"""The Polyglot evaluator: task cards, model backends, scoring and result files.

Importable with torch, transformers, pandas and pyarrow alone (no Gradio, no DuckDB), so that it
runs on a bare GPU machine.
"""

ENGINE_VERSION = "1.0.0"

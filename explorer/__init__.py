"""The explorer: DuckDB-backed views over results, their figures, and the Gradio tabs on top."""

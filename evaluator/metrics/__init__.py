"""Scoring functions: pure, each checked against hand-computed values in the tests."""

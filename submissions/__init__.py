"""Submissions: validating a model before it is queued, and the queue of evaluation requests."""

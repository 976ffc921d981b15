"""What a score row covers: ``ALL`` in its category column is the whole task in that language; in its
language column, all languages together (a source that publishes no per-language breakdown).

Standard library only: the evaluator, the explorer and the importers all name the marker from here.
"""

ALL = "*"

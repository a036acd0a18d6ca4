"""Pure planning: stack files, graphs, propagation, staging diffs, ordering, reversal."""

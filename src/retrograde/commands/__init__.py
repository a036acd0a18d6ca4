"""The verbs: one function each, taking a :class:`Context` first."""

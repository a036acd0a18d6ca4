"""The engine: runs a plan through an executor, commits each finished action."""

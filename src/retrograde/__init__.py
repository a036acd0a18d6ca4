"""retrograde: stage, apply and roll back changes to connected resources."""

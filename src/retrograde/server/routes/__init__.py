"""The API's routes by area: reads, staging and undo, jobs, tokens and the lock, the session."""

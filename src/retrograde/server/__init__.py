"""`retrograde serve`: the HTTP API and the web page over the same store."""

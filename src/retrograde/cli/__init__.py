"""The command-line adapter: parse, call one verb, render. The only place that prints or exits."""

"""Agent assist: a case summarised for whoever picks it up.

With Claude when a key is set (one forced tool call, the answer checked), and always without
one: an extract of the case's own sentences, chosen with the embedding model triage already
loaded, plus the facts (amounts, order numbers, dates, addresses) quoted verbatim.
"""

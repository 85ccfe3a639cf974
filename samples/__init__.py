"""The product documents' example requests, runnable against a running bot (run.py)."""

"""Triage: the service catalog and the classifier chain (Claude → local embeddings → keywords)."""

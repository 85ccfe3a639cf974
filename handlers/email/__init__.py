"""Inbound customer email: turn raw RFC 5322 bytes into a plain, typed result."""

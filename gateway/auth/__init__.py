"""Operator accounts, roles and login sessions (docs/auth.md)."""

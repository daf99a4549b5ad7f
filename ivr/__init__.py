"""IVR flows as explicit state machines over a CallChannel port (see issue 3)."""

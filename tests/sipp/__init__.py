"""sipp scenarios and the tools that feed them (a package so that tests can import them)."""

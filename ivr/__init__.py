"""IVR flows as explicit state machines over a CallChannel port (see issue 3, docs/ivr.md).

- `ivr.flow`: the intake flow, pure: `advance(flow, state, event) -> Transition(state, actions)`.
- `ivr.channel`: the `CallChannel` port and `run_flow`, which runs a flow step by step (FastAGI).
- `ivr.catalog`: languages, prompts and their measured durations.
- `ivr.rehearsal`: timelines and the worst case on a virtual clock.
- `ivr.prompt_audio`: renders the prompts with espeak-ng and sox (the only module doing I/O).
"""

"""Line 19 domain: calls, incidents and the rules that decide about them.

Pure Python: no I/O, no framework imports (aiohttp, SQLAlchemy, pyst2, twilio). A unit test
(`tests/unit/test_domain.py`) proves it.
"""

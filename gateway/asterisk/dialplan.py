"""Names shared with `asterisk_configs/extensions.conf`: change them in both places."""

# Set by the dialplan before the intake, read by the gateway with GET FULL VARIABLE.
TRUNK = "L19_TRUNK"
DEFAULT_ROOM = "L19_DEFAULT_ROOM"
CARRIER = "L19_CARRIER"
# One round trip fetches every trusted fact the intake needs from the channel. Its strictly
# parsed answer also proves the AGI stream is in step (see agi_env's docstring).
# The last field, L19_LOCATION, is what the INVITE said of the caller's location ([l19-location]:
# base64 fields joined by "|"); empty on most calls.
TRUSTED_FACTS = (
    "${L19_TRUNK}|${CHANNEL(linkedid)}|${L19_DEFAULT_ROOM}|${L19_CARRIER}|${L19_LOCATION}"
)

# Set by the gateway in one AGI command, "room:priority:incident", and only by a completed
# intake; the dialplan cuts it into L19_ROOM, L19_PRIO and L19_INCIDENT (the fail-open test).
INTAKE_RESULT = "L19_INTAKE"
ROOM = "L19_ROOM"
PRIORITY = "L19_PRIO"
INCIDENT = "L19_INCIDENT"

# The FastAGI script name of the intake: agi://host:port/intake
INTAKE_SCRIPT = "intake"

# A call handed back by Twilio (context from-twilio): the script and the header's call id.
HANDOFF_SCRIPT = "handoff"
TWILIO_CALL = "L19_TWILIO_CALL"

# Custom queue_log events written by the dialplan (QueueLog()).
QUEUE_LOG_FAILOPEN = "L19FAILOPEN"
QUEUE_LOG_INTAKE = "L19INTAKE"

# The IVR (FastAGI script `ivr`, run after a completed intake; skipped on fail-open).
IVR_SCRIPT = "ivr"
KEY = "L19_KEY"  # Read() stores the caller's key here
LANGUAGE = "L19_LANG"
SILENT = "L19_SILENT"
IVR_DONE = "L19_IVR_DONE"  # set last, only by a completed IVR
QUEUE_LOG_IVR = "L19IVR"

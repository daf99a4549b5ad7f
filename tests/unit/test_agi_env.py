"""The FastAGI environment parser, on crafted and recorded Asterisk 22 environments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.asterisk.agi_env import (
    MAX_LINE_BYTES,
    MAX_LINES,
    MAX_VALUE_CHARS,
    AgiEnvironment,
    AgiEnvironmentError,
    AgiEnvironmentReader,
    parse_agi_environment,
)
from gateway.asterisk.agi_protocol import AgiProtocolError, parse_response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "agi"


def fixture_lines(name: str) -> Iterator[bytes]:
    """The file's lines as a socket reader yields them (no partial last line)."""
    data = (FIXTURES / name).read_bytes()
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return iter(lines)


def parse_fixture(name: str) -> AgiEnvironment:
    return parse_agi_environment(fixture_lines(name))


def env_lines(**overrides: str) -> list[bytes]:
    """A well-formed environment, blank line included; the value "<drop>" omits a key."""
    fields = {
        "agi_network": "yes",
        "agi_network_script": "intake",
        "agi_request": "agi://127.0.0.1:4573/intake",
        "agi_channel": "PJSIP/maroc-telecom-00000001",
        "agi_language": "fr",
        "agi_type": "PJSIP",
        "agi_uniqueid": "1747130000.1",
        "agi_version": "22.10.1",
        "agi_callerid": "0612345678",
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": "19",
        "agi_rdnis": "unknown",
        "agi_context": "from-carrier",
        "agi_extension": "19",
        "agi_priority": "4",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "139921731548864",
    }
    fields.update(overrides)
    lines = [f"{k}: {v}".encode() for k, v in fields.items() if v != "<drop>"]
    return [*lines, b""]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_every_agi_fixture_parses_without_exception(path: Path) -> None:
    env = parse_fixture(path.name)
    assert isinstance(env.anomalies, tuple)
    if path.name.startswith("recorded_"):  # real traffic from the sandbox
        assert env.complete and not env.tampered, env.anomalies


def test_a_normal_pjsip_call_exposes_its_trusted_head() -> None:
    env = parse_fixture("normal_pjsip_maroc_telecom.txt")
    assert env.complete and not env.tampered and env.anomalies == ()
    assert env.request == "agi://127.0.0.1:4573/intake"
    assert env.network_script == "intake"
    assert env.channel == "PJSIP/maroc-telecom-00000007"
    assert env.uniqueid == "1747130521.14"
    assert env.callerid == "0612345678"
    assert env.calleridname == "unknown"
    assert env.get("agi_accountcode") == ""
    assert env.get("agi_context") == "from-carrier"
    assert env.args == ("19",)


@pytest.mark.parametrize(
    ("name", "number", "caller_name"),
    [
        ("withheld_anonymous.txt", "anonymous", "Anonymous"),
        ("withheld_unknown.txt", "unknown", "unknown"),
    ],
)
def test_withheld_caller_id_is_exposed_raw(name: str, number: str, caller_name: str) -> None:
    env = parse_fixture(name)
    assert (env.callerid, env.calleridname) == (number, caller_name)
    assert env.complete and not env.tampered


def test_garbage_caller_id_is_kept_raw_and_is_not_an_anomaly() -> None:
    env = parse_fixture("garbage_callerid.txt")
    assert env.callerid == "+212abc<script>;DROP TABLE"
    assert env.calleridname == 'محمد 🚓 "x"'
    assert env.anomalies == () and not env.tampered


def test_forged_uniqueid_inside_caller_name_never_overrides_the_real_one() -> None:
    env = parse_fixture("injected_calleridname.txt")
    assert env.uniqueid == "1747130777.40"
    assert env.tampered


def test_lines_injected_in_caller_name_are_flagged_and_ignored() -> None:
    env = parse_fixture("injected_calleridname.txt")
    assert env.calleridname == "Ahmed"
    assert env.get("agi_context") == "from-carrier"
    assert env.args == ("19",)
    assert env.complete
    assert any("duplicate agi_uniqueid" in a for a in env.anomalies)
    assert any("agi_context out of canonical order" in a for a in env.anomalies)
    assert any("agi_arg_1 out of canonical order" in a for a in env.anomalies)


def test_blank_line_injected_in_caller_name_cuts_the_environment_and_desyncs_the_stream() -> None:
    lines = fixture_lines("injected_calleridname_blank_line.txt")
    env = parse_agi_environment(lines)
    assert env.tampered and not env.complete
    assert env.uniqueid == "1747130801.44"
    assert env.get("agi_context") is None and env.args == ()
    # The genuine rest of the environment now sits where the first response is expected.
    with pytest.raises(AgiProtocolError):
        parse_response(next(lines))


def test_forging_the_next_expected_line_makes_the_real_one_a_duplicate() -> None:
    # The documented limit: a field after the first caller-controlled one can be forged,
    # but never silently: the genuine line then shows up as a duplicate.
    env = parse_fixture("injected_calleridname_in_callerid.txt")
    assert env.callerid == "0612345678"
    assert env.calleridname == "Police"
    assert env.uniqueid == "1747130850.47"
    assert env.tampered
    assert any("duplicate agi_calleridname" in a for a in env.anomalies)


def test_nul_escape_and_carriage_return_are_stripped_and_flagged() -> None:
    env = parse_fixture("nul_and_cr.txt")
    assert env.calleridname == "Ahmed[31m"
    assert env.get("agi_dnid") == "19"
    assert any("control characters stripped from agi_calleridname" in a for a in env.anomalies)
    assert any("carriage return" in a for a in env.anomalies)
    assert not env.tampered and env.complete


def test_an_overlong_line_is_truncated_and_flagged() -> None:
    env = parse_fixture("overlong_line.txt")
    assert env.calleridname == "A" * MAX_VALUE_CHARS
    assert any(f"longer than {MAX_LINE_BYTES} bytes" in a for a in env.anomalies)
    assert env.get("agi_callingpres") == "0" and env.complete


def test_an_environment_cut_before_its_blank_line_is_incomplete() -> None:
    env = parse_fixture("truncated.txt")
    assert not env.complete
    assert env.uniqueid == "1747130521.14" and env.callerid == "0612345678"
    assert any("without its terminating blank line" in a for a in env.anomalies)
    assert any("missing keys" in a and "agi_threadid" in a for a in env.anomalies)


def test_the_reader_reports_the_end_and_accepts_lines_with_their_newline() -> None:
    reader = AgiEnvironmentReader()
    lines = env_lines()
    assert not any(reader.feed_line(line + b"\n") for line in lines[:-1])
    assert reader.feed_line(b"\n") is True
    assert reader.done and reader.result().complete


def test_the_reader_refuses_lines_after_the_blank_line() -> None:
    reader = AgiEnvironmentReader()
    for line in env_lines():
        reader.feed_line(line)
    with pytest.raises(AgiEnvironmentError):
        reader.feed_line(b"200 result=1")


def test_the_reader_raises_once_the_line_cap_is_exceeded() -> None:
    reader = AgiEnvironmentReader()
    for _ in range(MAX_LINES):
        reader.feed_line(b"agi_padding: x")
    with pytest.raises(AgiEnvironmentError):
        reader.feed_line(b"agi_padding: x")


def test_an_unknown_key_before_caller_data_is_an_anomaly_but_not_tampering() -> None:
    lines = env_lines()
    lines.insert(3, b"agi_future_field: 1")
    env = parse_agi_environment(lines)
    assert not env.tampered and env.complete
    assert any("unknown key 'agi_future_field'" in a for a in env.anomalies)


@pytest.mark.parametrize("junk", [b"agi_future_field: 1", b"no separator here", b"\xff\xfe"])
def test_junk_after_a_caller_field_marks_the_environment_tampered(junk: bytes) -> None:
    lines = env_lines()
    lines.insert(9, junk)  # right after agi_callerid
    env = parse_agi_environment(lines)
    assert env.tampered and env.complete


def test_undecodable_bytes_are_replaced_and_flagged() -> None:
    env = parse_agi_environment(_with_name(b"Caf\xe9"))
    assert env.calleridname == "Caf\ufffd"
    assert any("undecodable" in a for a in env.anomalies)


def _with_name(name: bytes) -> list[bytes]:
    prefix = b"agi_calleridname: "
    return [prefix + name if line.startswith(prefix) else line for line in env_lines()]


def test_a_key_with_trimmed_trailing_space_is_read_as_empty() -> None:
    lines = [b"agi_accountcode:" if ln == b"agi_accountcode: " else ln for ln in env_lines()]
    env = parse_agi_environment(lines)
    assert env.get("agi_accountcode") == "" and env.anomalies == ()


def test_arguments_must_be_consecutive() -> None:
    lines = env_lines()
    lines[-1:-1] = [b"agi_arg_1: a", b"agi_arg_3: c", b"agi_arg_2: b"]
    env = parse_agi_environment(lines)
    assert env.args == ("a", "b")
    assert any("agi_arg_3 out of canonical order" in a for a in env.anomalies)


def test_anomalies_name_keys_but_never_echo_values() -> None:
    injected = b"secret\nagi_uniqueid: hunter2\nmalicious line\nevil key: x"
    env = parse_agi_environment(b"\n".join(_with_name(injected)).split(b"\n"))
    assert env.tampered and len(env.anomalies) == 3
    assert not any(word in a for a in env.anomalies for word in ("hunter2", "malicious", "evil"))


def test_network_script_drops_the_query_string() -> None:
    env = parse_agi_environment(
        env_lines(
            agi_network_script="intake?v=2",
            agi_request="agi://127.0.0.1:4573/intake?v=2",
        )
    )
    assert env.network_script == "intake" and env.anomalies == ()


def test_network_script_is_optional_and_derived_from_the_request() -> None:
    env = parse_agi_environment(env_lines(agi_network_script="<drop>"))
    assert env.network_script == "intake"
    assert env.complete and env.anomalies == ()


def test_a_url_without_path_has_no_network_script() -> None:
    env = parse_agi_environment(
        env_lines(agi_network_script="<drop>", agi_request="agi://127.0.0.1:4573")
    )
    assert env.network_script is None and env.complete


def test_a_network_script_that_contradicts_the_request_is_an_anomaly() -> None:
    env = parse_agi_environment(env_lines(agi_network_script="admin"))
    assert any("does not match" in a for a in env.anomalies)


def test_a_missing_head_key_is_reported_but_later_keys_still_count() -> None:
    env = parse_agi_environment(env_lines(agi_language="<drop>"))
    assert not env.complete and not env.tampered
    assert env.uniqueid == "1747130000.1" and env.get("agi_threadid") == "139921731548864"
    assert any("missing keys: agi_language" in a for a in env.anomalies)

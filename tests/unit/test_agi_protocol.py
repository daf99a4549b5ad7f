"""AGI command formatting and strict response parsing."""

from __future__ import annotations

import pytest

from gateway.asterisk.agi_protocol import (
    MAX_COMMAND_BYTES,
    AgiProtocolError,
    format_command,
    is_usage_end,
    parse_response,
)


def split_like_asterisk(line: str) -> list[str]:
    """Asterisk's AGI argument splitter (res_agi.c parse_args), re-stated for the tests:
    a double quote toggles quoting, a backslash makes the next character literal, and
    unquoted blanks separate words."""
    words: list[str] = []
    current: list[str] = []
    in_word = quoted = escaped = False
    for char in line:
        if escaped:
            current.append(char)
            in_word, escaped = True, False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
            in_word = True
        elif char in " \t" and not quoted:
            if in_word:
                words.append("".join(current))
            current, in_word = [], False
        else:
            current.append(char)
            in_word = True
    if in_word:
        words.append("".join(current))
    return words


def test_arguments_are_double_quoted_with_quotes_and_backslashes_escaped() -> None:
    line = format_command("SET VARIABLE", "L19_NAME", 'say "hi" \\ bye')
    assert line == b'SET VARIABLE "L19_NAME" "say \\"hi\\" \\\\ bye"\n'


@pytest.mark.parametrize(
    "value",
    ["", " ", "a b", 'quote " inside', "back\\slash", '\\"', "${CALLERID(num)}", "مرحبا", "x\t"],
)
def test_formatted_arguments_survive_asterisks_argument_splitter(value: str) -> None:
    line = format_command("SET VARIABLE", "L19_X", value).decode().rstrip("\n")
    assert split_like_asterisk(line) == ["SET", "VARIABLE", "L19_X", value]


@pytest.mark.parametrize("bad", ["a\nHANGUP", "a\rb", "a\x00b"])
def test_cr_lf_and_nul_in_arguments_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        format_command("SET VARIABLE", "L19_X", bad)


@pytest.mark.parametrize("name", ["", "GET VARIABLE\nHANGUP", "EXEC;", " NOOP", "GET  DATA"])
def test_malformed_command_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        format_command(name)


def test_a_command_longer_than_asterisks_read_buffer_is_rejected() -> None:
    format_command("SET VARIABLE", "V", "x" * (MAX_COMMAND_BYTES - 40))
    with pytest.raises(ValueError):
        format_command("SET VARIABLE", "V", "x" * MAX_COMMAND_BYTES)


def test_a_set_variable_is_a_success_with_result_1() -> None:
    response = parse_response(b"200 result=1\n")
    assert (response.code, response.result, response.data) == (200, "1", None)
    assert response.ok and not response.dead


def test_get_variable_value_is_the_parenthesised_data() -> None:
    response = parse_response(b"200 result=1 (PJSIP/maroc-telecom)")
    assert response.value == "PJSIP/maroc-telecom"


def test_an_unset_variable_has_no_value() -> None:
    response = parse_response(b"200 result=0")
    assert response.ok and response.value is None


def test_get_full_variable_of_an_empty_expression_is_an_empty_string() -> None:
    assert parse_response(b"200 result=1 ()").value == ""


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (b"200 result=1 (a (b) c)", "a (b) c"),
        (
            b"200 result=1 (trunk|1747131000.18|room-1|Maroc Telecom)",
            "trunk|1747131000.18|room-1|Maroc Telecom",
        ),
        (b"200 result=1 (x) y)", "x) y"),
        (b"200 result=1 ( padded )", " padded "),
    ],
)
def test_a_value_may_itself_contain_parentheses_and_pipes(line: bytes, value: str) -> None:
    assert parse_response(line).value == value


def test_a_failed_command_is_not_ok() -> None:
    response = parse_response(b"200 result=-1\r\n")
    assert response.code == 200 and response.result == "-1" and not response.ok


def test_trailing_text_after_data_is_kept() -> None:
    response = parse_response(b"200 result=1 (dtmf) endpos=67890")
    assert (response.data, response.text) == ("dtmf", "endpos=67890")
    assert parse_response(b"200 result=0 endpos=24807").text == "endpos=24807"


def test_an_empty_result_with_timeout_data_parses() -> None:
    response = parse_response(b"200 result= (timeout)")
    assert (response.result, response.data) == ("", "timeout")


@pytest.mark.parametrize(
    ("line", "code", "result", "text"),
    [
        (b"100 result=0 Trying...", 100, "0", "Trying..."),
        (b"503 result=-2 Memory allocation failure", 503, "-2", "Memory allocation failure"),
    ],
)
def test_interim_and_failure_codes_with_results(
    line: bytes, code: int, result: str, text: str
) -> None:
    response = parse_response(line)
    assert (response.code, response.result, response.text) == (code, result, text)
    assert not response.ok


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"510 Invalid or unknown command", 510),
        (b"511 Command Not Permitted on a dead channel or intercept routine", 511),
        (b"511 Command Not Permitted on a dead channel", 511),
        (b"520 Invalid command syntax.  Proper usage not available.", 520),
    ],
)
def test_error_codes_carry_their_message(line: bytes, code: int) -> None:
    response = parse_response(line)
    assert response.code == code and response.text == line.decode()[4:]
    assert not response.ok and not response.usage_follows
    assert response.dead == (code == 511)


@pytest.mark.parametrize(
    "line",
    [
        b"520-Invalid command syntax.  Proper usage follows:",
        b"520 Invalid command syntax.  Proper usage follows:",
    ],
)
def test_a_520_announcing_usage_text_says_more_lines_follow(line: bytes) -> None:
    assert parse_response(line).usage_follows


@pytest.mark.parametrize(
    ("line", "ends"),
    [
        (b"520 End of proper usage.", True),
        (b"520 End of proper usage.\n", True),
        (
            b"Returns the digits received from the other end.520 End of proper usage.",
            True,
        ),
        (b" Usage: GET DATA <file to be streamed> [timeout] [maxdigits]", False),
    ],
)
def test_the_end_of_a_usage_block_is_found_even_when_glued_to_the_text(
    line: bytes, ends: bool
) -> None:
    assert is_usage_end(line) is ends


def test_the_hangup_notice_is_a_dead_non_ok_response() -> None:
    response = parse_response(b"HANGUP\n")
    assert response.hangup and response.dead and not response.ok


@pytest.mark.parametrize(
    "line",
    [
        b"agi_callingpres: 0",  # the rest of an environment cut short: desynchronised stream
        b"agi_uniqueid: 999",
        b"",
        b"200",
        b"200 ok",
        b"200 result=1 (unterminated",
        b"200 result=1 (a)b",
        b"200 result=1x",
        b"200-result=1",
        b"999 result=1",
        b"2000 result=1",
        b"hangup",
        b"\xff\xfe\x00",
    ],
)
def test_anything_but_a_response_raises_a_protocol_error(line: bytes) -> None:
    with pytest.raises(AgiProtocolError):
        parse_response(line)


def test_a_protocol_error_shows_a_short_escaped_preview() -> None:
    with pytest.raises(AgiProtocolError, match="not an AGI response line") as info:
        parse_response(b"agi_calleridname: " + b"A" * 500 + b"\x1b[2J")
    assert len(str(info.value)) < 120 and "\x1b" not in str(info.value)

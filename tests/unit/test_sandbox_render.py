"""The Asterisk configs as rendered by the sandbox: complete, secret-free, least privilege."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.asterisk import dialplan
from gateway.asterisk.sandbox import (
    CONFIG_DIR,
    OPERATORS,
    Sandbox,
    SandboxError,
    SandboxParams,
    SandboxSecrets,
    generate_secrets,
    render,
    render_configs,
)

Section = tuple[str, dict[str, list[str]]]


def parse(text: str) -> list[Section]:
    """Asterisk config sections in file order, templates merged in: [(name, {key: [values]})]."""
    sections: list[Section] = []
    templates: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        header = re.fullmatch(r"\[([^\]]+)\](?:\(([^)]*)\))?", line)
        if header:
            name, spec = header.group(1), (header.group(2) or "").split(",")
            current = {}
            for parent in (p for p in spec if p and p != "!"):
                for key, values in templates[parent].items():
                    current[key] = list(values)
            if "!" in spec:
                templates[name] = current
            else:
                sections.append((name, current))
        elif line:
            key, _, value = re.split(r"\s*(=>|=)\s*", line, maxsplit=1)
            current.setdefault(key, []).append(value)
    return sections


def section(sections: list[Section], name: str, kind: str | None = None) -> dict[str, list[str]]:
    for found, options in sections:
        if found == name and (kind is None or options.get("type") == [kind]):
            return options
    raise AssertionError(f"no section [{name}] of type {kind}")


@pytest.fixture
def secrets() -> SandboxSecrets:
    return generate_secrets()


@pytest.fixture
def rendered(secrets: SandboxSecrets) -> dict[str, str]:
    return render_configs(SandboxParams(), secrets)


def test_every_placeholder_is_replaced(rendered: dict[str, str]) -> None:
    for name, text in rendered.items():
        assert not re.search(r"@[A-Z][A-Z0-9_]*@", text), name


def test_an_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(SandboxError, match="@NOPE@"):
        render("port = @NOPE@", {"SIP_PORT": "5060"}, "x.conf")


def test_params_are_rendered(secrets: SandboxSecrets) -> None:
    params = SandboxParams(
        sip_port=5070,
        ami_port=5039,
        agi_host="127.0.0.5",
        agi_port=4600,
        intake_timeout_s=7,
        rtp_start=30000,
        rtp_end=30100,
    )
    out = render_configs(params, secrets)
    assert "bind = 127.0.0.1:5070" in out["pjsip.conf"]
    assert "port = 5039" in out["manager.conf"]
    assert "AGI(agi://127.0.0.5:4600/intake)" in out["extensions.conf"]
    assert "Set(TIMEOUT(absolute)=7)" in out["extensions.conf"]
    assert "rtpstart = 30000" in out["rtp.conf"] and "rtpend = 30100" in out["rtp.conf"]


def test_no_secret_is_in_the_repository_files() -> None:
    for path in CONFIG_DIR.iterdir():
        for key, value in re.findall(r"^\s*(secret|password)\s*=\s*(\S*)", path.read_text(), re.M):
            assert re.fullmatch(r"@[A-Z][A-Z0-9_]*@", value), f"{path.name}: literal {key}"


def test_generated_secrets_reach_the_configs(
    rendered: dict[str, str], secrets: SandboxSecrets
) -> None:
    assert f"secret = {secrets.ami_secret}" in rendered["manager.conf"]
    assert set(secrets.operators) == set(OPERATORS)
    for name, password in secrets.operators.items():
        assert section(parse(rendered["pjsip.conf"]), name, "auth")["password"] == [password]


def test_generated_secrets_keep_existing_ones_and_fill_in_new_operators() -> None:
    old = SandboxSecrets("a" * 32, {"op-rabat-1": "b" * 32})
    new = generate_secrets(old)
    assert new.ami_secret == old.ami_secret
    assert new.operators["op-rabat-1"] == "b" * 32
    assert len(set(new.operators.values())) == len(OPERATORS)


def test_ami_listens_on_loopback_for_loopback_only(rendered: dict[str, str]) -> None:
    sections = parse(rendered["manager.conf"])
    assert section(sections, "general")["bindaddr"] == ["127.0.0.1"]
    user = section(sections, SandboxParams().ami_user)
    assert user["deny"] == ["0.0.0.0/0.0.0.0"]
    assert user["permit"] == ["127.0.0.1/255.255.255.255"]
    text = rendered["manager.conf"]
    assert text.index("deny = 0.0.0.0") < text.index("permit = 127.0.0.1"), "deny must come first"


def test_ami_user_cannot_run_system_command_or_originate(rendered: dict[str, str]) -> None:
    user = section(parse(rendered["manager.conf"]), SandboxParams().ami_user)
    rights = {r.strip() for value in user["write"] for r in value.split(",")}
    assert rights == {"call", "agent", "user"}
    assert not rights & {"system", "command", "originate", "config", "all"}


def test_sip_listens_on_loopback_only(rendered: dict[str, str]) -> None:
    transport = section(parse(rendered["pjsip.conf"]), "transport-udp", "transport")
    assert transport["bind"] == [f"127.0.0.1:{SandboxParams().sip_port}"]


def test_there_is_no_anonymous_endpoint(rendered: dict[str, str]) -> None:
    sections = parse(rendered["pjsip.conf"])
    order = section(sections, "global", "global")["endpoint_identifier_order"][0]
    assert "anonymous" not in order.split(",")
    assert all(name != "anonymous" for name, _ in sections)
    assert "res_pjsip_endpoint_identifier_anonymous" not in rendered["modules.conf"]


def test_carriers_are_identified_by_their_address_and_nothing_else(
    rendered: dict[str, str],
) -> None:
    sections = parse(rendered["pjsip.conf"])
    for carrier, address, room in (
        ("maroc-telecom", "127.0.0.2", "rabat"),
        ("orange", "127.0.0.3", "sale"),
        ("inwi", "127.0.0.4", "rabat"),
    ):
        endpoint = section(sections, carrier, "endpoint")
        assert endpoint["identify_by"] == ["ip"]
        assert endpoint["context"] == ["from-carriers"]
        assert f"{dialplan.DEFAULT_ROOM}={room}" in endpoint["set_var"]
        assert "auth" not in endpoint
        assert section(sections, carrier, "identify")["match"] == [address]


def test_operators_must_authenticate_and_land_in_their_own_context(
    rendered: dict[str, str],
) -> None:
    sections = parse(rendered["pjsip.conf"])
    for name in OPERATORS:
        endpoint = section(sections, name, "endpoint")
        assert endpoint["auth"] == [name]
        assert endpoint["context"] == ["from-operators"]
        assert endpoint["identify_by"] == ["username"]


def test_modules_are_an_explicit_list(rendered: dict[str, str]) -> None:
    modules = section(parse(rendered["modules.conf"]), "modules")
    assert modules["autoload"] == ["no"]
    assert "res_agi.so" in modules["load"] and "app_queue.so" in modules["load"]


def test_the_dialplan_uses_the_names_the_gateway_uses(rendered: dict[str, str]) -> None:
    text = rendered["extensions.conf"]
    for variable in (dialplan.TRUNK, dialplan.ROOM, dialplan.PRIORITY, dialplan.INCIDENT):
        assert f"${{{variable}}}" in text
    assert f"/{dialplan.INTAKE_SCRIPT})" in text
    assert f",{dialplan.QUEUE_LOG_FAILOPEN}," in text and f",{dialplan.QUEUE_LOG_INTAKE}," in text


def test_the_bench_context_is_reachable_only_when_asked(secrets: SandboxSecrets) -> None:
    assert "include => bench" not in render_configs(SandboxParams(), secrets)["extensions.conf"]
    bench = render_configs(SandboxParams(bench=True), secrets)["extensions.conf"]
    assert "include => bench" in bench


@pytest.mark.parametrize(
    "params",
    [
        SandboxParams(agi_host="127.0.0.1/x,y"),
        SandboxParams(ami_user="x]\n[admin"),
        SandboxParams(ami_user="line19\n"),
        SandboxParams(sip_port=0),
        SandboxParams(rtp_start=2000, rtp_end=1000),
        SandboxParams(intake_timeout_s=0),
    ],
)
def test_unsafe_params_are_refused(params: SandboxParams, secrets: SandboxSecrets) -> None:
    with pytest.raises(SandboxError):
        render_configs(params, secrets)


def test_ports_come_from_the_environment() -> None:
    env = {"LINE19_SIP_PORT": "5070", "LINE19_AMI_PORT": "5039", "LINE19_AGI_PORT": "4600"}
    params = SandboxParams.from_env(env, agi_port=4700)
    assert (params.sip_port, params.ami_port, params.agi_port) == (5070, 5039, 4700)


def test_the_live_root_must_be_outside_the_repository(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="outside the repository"):
        Sandbox(CONFIG_DIR.parent / "var" / "sandbox", cache_dir=tmp_path)
    assert Sandbox(tmp_path / "sandbox", cache_dir=tmp_path).queue_log_path() == (
        tmp_path / "sandbox/root/var/log/asterisk/queue_log"
    )

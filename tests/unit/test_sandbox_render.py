"""The Asterisk configs as rendered by the sandbox: complete, secret-free, least privilege."""

from __future__ import annotations

import os
import re
import stat
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
from gateway.asterisk.sandbox_build import SUITE, debootstrap_command, debootstrap_error
from gateway.asterisk.sandbox_gateway_config import (
    gateway_config_values,
    merge_gateway_config,
    write_gateway_config,
)
from gateway.asterisk.sandbox_host import asterisk_id
from gateway.settings import load_settings

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


# -- building the root: no mirror named unless configured ------------------------------------
def test_debootstrap_uses_its_own_mirror_unless_one_is_configured(tmp_path: Path) -> None:
    target = tmp_path / "root"
    default = debootstrap_command("/usr/sbin/debootstrap", target, None)
    assert default[-2:] == [SUITE, str(target)]
    assert not any("://" in arg for arg in default)
    chosen = debootstrap_command("debootstrap", target, "http://mirror.example/debian/")
    assert chosen[-3:] == [SUITE, str(target), "http://mirror.example/debian"]


def test_sandbox_mirror_comes_from_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINE19_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.delenv("LINE19_DEBIAN_MIRROR", raising=False)
    assert Sandbox.from_env().mirror is None
    monkeypatch.setenv("LINE19_DEBIAN_MIRROR", "http://mirror.example/debian")
    assert Sandbox.from_env().mirror == "http://mirror.example/debian"


@pytest.mark.parametrize(
    ("output", "inner"),
    [
        ("E: Failed getting release file http://mirror.example/debian/dists/sid/Release\n", ""),
        ("I: Retrieving InRelease\nE: Couldn't download packages: apt\n", ""),
        ("E: x\n", "wget: unable to resolve host address 'mirror.example'\n"),
        ("E: x\n", "failed: Temporary failure in name resolution.\n"),
        ("E: x\n", "connect to 192.0.2.1 port 80: Connection refused\n"),
        ("E: x\n", "failed: Connection timed out.\n"),
        ("W: Temporary failure resolving 'mirror.example'\n", ""),
    ],
)
def test_a_download_failure_says_the_mirror_is_unreachable(output: str, inner: str) -> None:
    message = debootstrap_error(1, output, inner, Path("/c/build.log"), None)
    assert message.startswith("cannot reach the package mirror (debootstrap's default mirror)")
    assert "~200 MB" in message and "LINE19_DEBIAN_MIRROR" in message
    assert "/c/build.log" in message


def test_another_debootstrap_failure_shows_the_end_of_its_output() -> None:
    output = "".join(f"I: step {i}\n" for i in range(30)) + "E: Invalid Release signature\n"
    message = debootstrap_error(1, output, "dpkg: error\n", Path("/c/build.log"), "http://m/d")
    assert message.startswith("debootstrap failed (exit 1)")
    assert "E: Invalid Release signature" in message and "I: step 29" in message
    assert "I: step 5\n" not in message and "mirror" not in message


# -- the gateway's config file -------------------------------------------------------------
@pytest.fixture
def gateway_values(secrets: SandboxSecrets, tmp_path: Path) -> dict[str, str | int]:
    params = SandboxParams(agi_port=4600, ami_port=5039, agi_host="127.0.0.5")
    return gateway_config_values(params, secrets, tmp_path / "root/var/log/asterisk/queue_log")


@pytest.fixture
def no_line19_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("LINE19_")]:
        monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_line19_env")
def test_the_gateway_config_is_loaded_by_the_gateway(
    tmp_path: Path, secrets: SandboxSecrets, gateway_values: dict[str, str | int]
) -> None:
    path = tmp_path / "new/dir/line19.toml"
    write_gateway_config(path, gateway_values)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(path)
    assert (settings.agi_host, settings.agi_port) == ("127.0.0.5", 4600)
    assert (settings.ami_port, settings.ami_user) == (5039, "line19")
    assert settings.ami_secret is not None
    assert settings.ami_secret.get_secret_value() == secrets.ami_secret
    assert settings.queue_log_path == tmp_path / "root/var/log/asterisk/queue_log"
    assert settings.database_url == "sqlite+aiosqlite:///var/line19.db"


@pytest.mark.usefixtures("no_line19_env")
def test_the_gateway_config_keeps_what_the_sandbox_does_not_own(
    tmp_path: Path, gateway_values: dict[str, str | int]
) -> None:
    path = tmp_path / "line19.toml"
    path.write_text(
        "# my settings\n"
        'database_url = "postgresql+asyncpg://l19@localhost/l19"\n'
        "http_port = 9000\n"
        "ami_port = 1234  # stale\n"
        'fallback_room = "sale"\n'
        '\n[[rooms]]\nid = "sale"\nname = "Salé"\n'
    )
    path.chmod(0o644)
    write_gateway_config(path, gateway_values)
    write_gateway_config(path, gateway_values)  # idempotent: no duplicate keys, one header
    text = path.read_text()
    assert text.count("# Written by") == 1 and "# my settings" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(path)
    assert settings.database_url == "postgresql+asyncpg://l19@localhost/l19"
    assert (settings.http_port, settings.ami_port, settings.agi_port) == (9000, 5039, 4600)
    assert [room.id for room in settings.rooms] == ["sale"]
    assert settings.fallback_room == "sale"


def test_gateway_config_strings_are_escaped() -> None:
    assert merge_gateway_config("", {"ami_secret": 'a"b\\c\nd\x7f'}).splitlines()[-1] == (
        'ami_secret = "a\\u0022b\\u005cc\\u000ad\\u007f"'
    )
    with pytest.raises(SandboxError, match="not valid TOML"):
        merge_gateway_config("ami_port = = 1\n", {"ami_port": 1}, "x.toml")


def test_sandbox_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "sandbox", cache_dir=tmp_path)
    first = box.secrets()
    assert box.secrets() == first
    path = tmp_path / "sandbox/secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secrets.json"]


def test_asterisk_ids_come_from_the_root(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/group").write_text("root:x:0:\nasterisk:x:107:\n")
    assert asterisk_id(tmp_path, "group") == 107
    with pytest.raises(SandboxError, match="no asterisk entry"):
        (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
        asterisk_id(tmp_path, "passwd")

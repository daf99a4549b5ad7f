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
from gateway.asterisk.sandbox_prompts import install_prompts, resolve_in_root
from gateway.settings import Settings, load_settings
from ivr.catalog import Language, Prompt, PromptName

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
    intake = 'AGI(agi://127.0.0.5:4600/${IF($["${ARG1}" = ""]?intake:${ARG1})})'
    assert intake in out["extensions.conf"]
    assert "AGI(agi://127.0.0.5:4600/ivr)" in out["extensions.conf"]
    assert "Set(TIMEOUT(absolute)=7)" in out["extensions.conf"]
    assert "Set(TIMEOUT(absolute)=14)" in out["extensions.conf"]
    ivr = render_configs(SandboxParams(ivr_timeout_s=9), secrets)["extensions.conf"]
    assert "Set(TIMEOUT(absolute)=9)" in ivr and "Set(TIMEOUT(absolute)=14)" not in ivr
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
    for variable in (
        dialplan.TRUNK,
        dialplan.ROOM,
        dialplan.PRIORITY,
        dialplan.INCIDENT,
        dialplan.LANGUAGE,
        dialplan.SILENT,
        dialplan.IVR_DONE,
    ):
        assert f"${{{variable}}}" in text
    assert f"?{dialplan.INTAKE_SCRIPT}:" in text and f"/{dialplan.IVR_SCRIPT})" in text
    assert f"l19-intake,s,1({dialplan.HANDOFF_SCRIPT})" in text
    assert f"Set({dialplan.TWILIO_CALL}=" in text and "Set(L19_LOCATION=" in text
    assert f",{dialplan.QUEUE_LOG_FAILOPEN}," in text and f",{dialplan.QUEUE_LOG_INTAKE}," in text
    assert f",{dialplan.QUEUE_LOG_IVR}," in text


def dialplan_steps(text: str, context: str, exten: str) -> list[tuple[str, str]]:
    """[(label, application with arguments)] of one extension, in priority order."""
    steps: list[tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header or (steps and line.startswith("exten =>")):
            if steps:
                break
            current = header.group(1) if header else current
            continue
        first = re.fullmatch(rf"exten => {re.escape(exten)},1,(.*)", line)
        following = re.fullmatch(r"same => n(?:\((\w+)\))?,(.*)", line)
        if current == context and first:
            steps = [("", first.group(1))]
        elif steps and following:
            steps.append((following.group(1) or "", following.group(2)))
    return steps


def step_index(steps: list[tuple[str, str]], start: str) -> int:
    found = [n for n, (_, app) in enumerate(steps) if app.startswith(start)]
    assert len(found) == 1, f"{start!r}: {found}"
    return found[0]


def test_the_ivr_runs_only_after_a_completed_intake(rendered: dict[str, str]) -> None:
    steps = dialplan_steps(rendered["extensions.conf"], "from-carriers", "19")
    intake = step_index(steps, "Gosub(l19-intake,s,1)")
    skip = step_index(steps, 'GotoIf($["${L19_INCIDENT}" = ""]?queue)')
    ivr = step_index(steps, "Gosub(l19-ivr,s,1)")
    queue_label = [n for n, (label, _) in enumerate(steps) if label == "queue"]
    assert intake < skip < ivr and queue_label == [ivr + 1]
    assert step_index(steps, "Set(QUEUE_PRIO=${L19_PRIO})") < step_index(steps, "Queue(")


def test_the_ivr_is_bounded_and_keeps_the_intake_priority_unless_it_completed(
    rendered: dict[str, str],
) -> None:
    text = rendered["extensions.conf"]
    steps = dialplan_steps(text, "l19-ivr", "s")
    labels = {label: n for n, (label, _) in enumerate(steps) if label}
    saved = step_index(steps, "Set(L19_INTAKE_PRIO=${L19_PRIO})")
    cleared = step_index(steps, f"Set({dialplan.IVR_DONE}=)")
    bound = step_index(steps, f"Set(TIMEOUT(absolute)={SandboxParams().ivr_timeout_s})")
    agi = step_index(steps, f"AGI(agi://127.0.0.1:4573/{dialplan.IVR_SCRIPT})")
    assert saved < cleared < bound < agi < labels["done"] < labels["incomplete"]
    check = step_index(steps, f'GotoIf($["${{{dialplan.IVR_DONE}}}" != "1"]?incomplete)')
    log = step_index(steps, f"QueueLog(${{L19_ROOM}},${{UNIQUEID}},NONE,{dialplan.QUEUE_LOG_IVR},")
    assert labels["done"] < check < log < labels["incomplete"]
    assert steps[log][1].endswith(
        f"${{{dialplan.LANGUAGE}}}|${{{dialplan.SILENT}}}|${{{dialplan.PRIORITY}}})"
    )
    between = [app for _, app in steps[check:log]]
    assert "Set(L19_PRIO=${FILTER(0-9,${L19_PRIO})})" in between
    assert "Set(L19_LANG=${FILTER(a-z,${L19_LANG})})" in between
    assert steps[labels["incomplete"] + 1][1] == "Set(L19_PRIO=${L19_INTAKE_PRIO})"
    timeout = dialplan_steps(text, "l19-ivr", "T")
    assert timeout[-1][1] == "Goto(s,done)"
    assert "Set(TIMEOUT(absolute)=0)" in [app for _, app in timeout]
    for name in (dialplan.KEY, dialplan.LANGUAGE, dialplan.SILENT, dialplan.IVR_DONE):
        assert name in text.split("[general]")[0], f"{name} is not named in the header"


def test_waiting_callers_hear_ringing_and_the_announcement_in_their_language(
    rendered: dict[str, str],
) -> None:
    sections = parse(rendered["queues.conf"])
    for room in sorted(Settings().room_ids):  # every configured room has its queue
        options = section(sections, room)
        announce = Prompt(PromptName.STAY_ON_LINE, Language.FR).asterisk_name.split("/", 1)[1]
        assert options["periodic-announce"] == [announce]
        assert 10 <= int(options["periodic-announce-frequency"][0]) <= 30
        assert options["joinempty"] == ["yes"] and options["leavewhenempty"] == ["no"]
    queue = dialplan_steps(rendered["extensions.conf"], "from-carriers", "19")
    assert steps_with(queue, "Queue(") == ["Queue(${L19_ROOM},r)"]
    assert "res_musiconhold" not in rendered["modules.conf"]  # ringing, not music


def steps_with(steps: list[tuple[str, str]], start: str) -> list[str]:
    return [app for _, app in steps if app.startswith(start)]


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
        SandboxParams(ivr_timeout_s=0),
        SandboxParams(ivr_timeout_s=121),
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
    return gateway_config_values(
        params,
        secrets,
        tmp_path / "root/var/log/asterisk/queue_log",
        tmp_path / "prompts/durations.json",
    )


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
    assert settings.ivr_durations_path == tmp_path / "prompts/durations.json"
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
    assert text.count("ivr_durations_path") == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(path)
    assert settings.database_url == "postgresql+asyncpg://l19@localhost/l19"
    assert (settings.http_port, settings.ami_port, settings.agi_port) == (9000, 5039, 4600)
    assert [room.id for room in settings.rooms] == ["sale"]
    assert settings.fallback_room == "sale"


def test_an_older_header_is_replaced(gateway_values: dict[str, str | int]) -> None:
    old = (
        "# Written by `line19 asterisk up --write-gateway-config`: on each `up` it rewrites the\n"
        "# AGI, AMI and queue_log keys below (and adds database_url if missing); other lines "
        "stay.\nagi_port = 1\n"
    )
    text = merge_gateway_config(old, gateway_values)
    assert text.count("# Written by") == 1 and "AGI, AMI and queue_log keys" not in text


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


# -- the IVR prompts in the root -------------------------------------------------------------
def fake_prompts(folder: Path, tag: str = "new") -> None:
    for language in Language:
        for name in PromptName:
            path = folder / Prompt(name, language).relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{tag} {language.value} {name.value}")
    (folder / "durations.json").write_text("{}")


def debian_sounds(root: Path) -> Path:
    """Debian's layout: sounds/en -> /etc/alternatives/asterisk-prompt-en -> the voice."""
    sounds = root / "usr/share/asterisk/sounds"
    voice = sounds / "en_US_f_Allison"
    voice.mkdir(parents=True)
    (voice / "queue-thankyou.gsm").write_text("core sound")
    (sounds / "en").symlink_to("/etc/alternatives/asterisk-prompt-en")
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/asterisk-prompt-en").symlink_to(
        "/usr/share/asterisk/sounds/en_US_f_Allison"
    )
    return voice


def test_prompts_go_to_each_language_folder_inside_the_root(tmp_path: Path) -> None:
    root, generated = tmp_path / "root", tmp_path / "prompts"
    voice = debian_sounds(root)
    fake_prompts(generated)
    (voice / "line19-retired.wav").write_text("an old prompt")
    installed = install_prompts(root, generated)
    assert len(installed) == len(Language) * len(PromptName)
    sounds = root / "usr/share/asterisk/sounds"
    for language in Language:
        folder = voice if language is Language.EN else sounds / language.value
        for name in PromptName:
            path = folder / f"line19-{name.value}.wav"
            assert path.read_text() == f"new {language.value} {name.value}"
            assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert (sounds / "en").is_symlink()  # the link is kept, the files go where it points
    assert not (voice / "line19-retired.wav").exists()
    assert (voice / "queue-thankyou.gsm").read_text() == "core sound"
    assert not list(sounds.rglob(".*partial"))
    fake_prompts(generated, "newer")
    install_prompts(root, generated)
    assert (sounds / "fr/line19-welcome.wav").read_text() == "newer fr welcome"


def test_a_missing_prompt_is_an_error(tmp_path: Path) -> None:
    root, generated = tmp_path / "root", tmp_path / "prompts"
    debian_sounds(root)
    fake_prompts(generated)
    (generated / "zgh/line19-invalid.wav").unlink()
    with pytest.raises(SandboxError, match=r"zgh/line19-invalid\.wav"):
        install_prompts(root, generated)


def test_links_are_resolved_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    debian_sounds(root)
    sounds = root / "usr/share/asterisk/sounds"
    assert resolve_in_root(root, "/usr/share/asterisk/sounds/en") == sounds / "en_US_f_Allison"
    assert resolve_in_root(root, "/usr/share/asterisk/sounds/fr") == sounds / "fr"
    (sounds / "evil").symlink_to("../../../../../../../../etc")
    assert resolve_in_root(root, "/usr/share/asterisk/sounds/evil") == root / "etc"
    (sounds / "loop").symlink_to("loop")
    with pytest.raises(SandboxError, match="too many symbolic links"):
        resolve_in_root(root, "/usr/share/asterisk/sounds/loop/x")


def test_prompt_durations_are_kept_in_the_state_folder(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "sandbox", cache_dir=tmp_path)
    assert box.prompt_durations_path() == tmp_path / "sandbox/prompts/durations.json"


def test_params_saved_before_the_ivr_timeout_existed_still_load(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "sandbox", cache_dir=tmp_path)
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox/params.json").write_text('{"sip_port": 5160, "intake_timeout_s": 4}')
    params = box.installed_params()
    assert params is not None and params.sip_port == 5160
    assert params.ivr_timeout_s == SandboxParams().ivr_timeout_s

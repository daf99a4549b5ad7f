"""A FastAGI stand-in for checking the dialplan's bounded, fail-open intake by hand.

    python tests/sipp/fastagi_stub.py hang            # accepts, reads the env, never answers
    python tests/sipp/fastagi_stub.py close           # reads the env, then closes the socket
    python tests/sipp/fastagi_stub.py intake --room sale --prio 7
                                                      # a trivial complete intake
    python tests/sipp/fastagi_stub.py intake --delay 10
                                                      # sets room and priority, then stalls
                                                      # before L19_INCIDENT

In `intake` mode the stub also answers the dialplan's second script, `ivr` (the l19-ivr
context), with a minimal IVR that uses Asterisk the way the gateway does:

    python tests/sipp/fastagi_stub.py intake --ivr-reads 2 --ivr-timeout 1.5
        # Read(L19_KEY,<welcome and the four options>,1,,1,1.5) twice, printing each key,
        # READSTATUS and when it came; the first key 1-4 picks the language, 5 marks the
        # call silent (priority 10); then CHANNEL(language), L19_LANG, L19_SILENT, L19_PRIO
        # and, last, L19_IVR_DONE=1
    python tests/sipp/fastagi_stub.py intake --ivr-hang      # the IVR never answers (T path)
    python tests/sipp/fastagi_stub.py prompts
        # for each channel language, asks Asterisk to open every prompt by the name the
        # gateway gives it (fr/line19-welcome) and by the queue's (line19-stay_on_line);
        # prints what was found, then closes (the call fails open)

It is not the gateway: it exists to show what Asterisk does with each kind of AGI peer
(see docs/asterisk_sandbox.md). Listens on 127.0.0.1:4573 unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

FACTS = '"${L19_TRUNK}|${CHANNEL(linkedid)}|${L19_DEFAULT_ROOM}|${L19_CARRIER}"'
LANGUAGES = {"1": "ar", "2": "fr", "3": "zgh", "4": "en"}
MENU = "&".join(
    ["ar/line19-welcome", *(f"{lang}/line19-language_menu" for lang in LANGUAGES.values())]
)


async def read_env(reader: asyncio.StreamReader) -> dict[str, str]:
    env = {}
    while (line := (await reader.readline()).decode().rstrip("\n")) != "":
        key, _, value = line.partition(": ")
        env[key] = value
    return env


async def command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: str) -> str:
    writer.write(text.encode() + b"\n")
    await writer.drain()
    return (await reader.readline()).decode().rstrip("\n")


def value(reply: str) -> str:
    """`200 result=1 (2)` -> `2`; `200 result=0` -> ``."""
    return reply.partition("(")[2].rpartition(")")[0]


async def ivr(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    uniqueid: str,
    args: argparse.Namespace,
) -> None:
    if args.ivr_hang:
        await reader.read()
        return
    start = time.monotonic()
    keys = []
    for n in range(args.ivr_reads):
        prompts = MENU if n == 0 else "ar/line19-silent_check"
        await command(reader, writer, 'SET VARIABLE L19_KEY ""')
        reply = await command(
            reader,
            writer,
            f'EXEC Read "L19_KEY,{prompts},1,{args.ivr_options},1,{args.ivr_timeout}"',
        )
        got = await command(reader, writer, "GET VARIABLE L19_KEY")
        status = value(await command(reader, writer, "GET VARIABLE READSTATUS"))
        key = value(got)
        print(
            f"{uniqueid}: read {n + 1} at {time.monotonic() - start:.2f} s: key {key!r} "
            f"READSTATUS={status} (EXEC: {reply}; GET VARIABLE: {got})",
            flush=True,
        )
        if reply.startswith("200 result=-1"):
            return  # hung up, or cut off by the absolute timeout
        keys.append(key)
    first = next((key for key in keys if key), "")
    language = LANGUAGES.get(first, "ar")
    silent = "1" if "5" in keys else "0"
    for name, text in (
        ("CHANNEL(language)", language),
        ("L19_LANG", language),
        ("L19_SILENT", silent),
        ("L19_PRIO", "10" if silent == "1" else str(args.prio)),
        ("L19_IVR_DONE", "1"),
    ):
        await command(reader, writer, f"SET VARIABLE {name} {text}")
    print(f"{uniqueid}: IVR done: keys {keys} language {language} silent {silent}", flush=True)


PROMPTS = ("welcome", "language_menu", "invalid", "silent_check", "stay_on_line")


async def probe_prompts(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, uniqueid: str
) -> None:
    """STREAM FILE from a sample offset past any prompt's end: Asterisk opens the file the
    way Playback/Read would (language folders included) and plays nothing. endpos > 0 means
    it was found; result=-1 that it was not."""
    names = [f"{lang}/line19-{name}" for lang in LANGUAGES.values() for name in PROMPTS]
    found = missing = 0
    for channel_language in LANGUAGES.values():
        await command(reader, writer, f"SET VARIABLE CHANNEL(language) {channel_language}")
        for name in [*names, "line19-stay_on_line"]:
            reply = await command(reader, writer, f'STREAM FILE {name} "" 100000000')
            ok = reply.startswith("200 result=0") and not reply.endswith("endpos=0")
            found, missing = found + ok, missing + (not ok)
            if not ok or name == "line19-stay_on_line":
                print(f"{uniqueid}: language {channel_language}: {name}: {reply}", flush=True)
    print(f"{uniqueid}: prompts found {found}, missing {missing}", flush=True)


async def serve(args: argparse.Namespace) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        env = await read_env(reader)
        uniqueid = env.get("agi_uniqueid", "?")
        print(
            f"{uniqueid}: {env.get('agi_network_script')} from {env.get('agi_callerid')!r}",
            flush=True,
        )
        try:
            if args.mode == "intake" and env.get("agi_network_script") == "ivr":
                await ivr(reader, writer, uniqueid, args)
            elif args.mode == "prompts":
                await probe_prompts(reader, writer, uniqueid)
            elif args.mode == "hang":
                await reader.read()  # until Asterisk closes its end
            elif args.mode == "intake":
                facts = await command(reader, writer, f"GET FULL VARIABLE {FACTS}")
                print(f"{uniqueid}: facts {facts}", flush=True)
                answer = f"{args.room}:{args.prio}:INC-{uniqueid}"
                reply = await command(reader, writer, f"SET VARIABLE L19_INTAKE {answer}")
                print(f"{uniqueid}: L19_INTAKE set: {reply!r}", flush=True)
        finally:
            print(f"{uniqueid}: closing", flush=True)
            with contextlib.suppress(ConnectionError):
                writer.close()
                await writer.wait_closed()

    server = await asyncio.start_server(handle, args.host, args.port)
    print(f"FastAGI stub ({args.mode}) on {args.host}:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["hang", "close", "intake", "prompts"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4573)
    parser.add_argument("--room", default="sale")
    parser.add_argument("--prio", type=int, default=7)
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to stall before setting L19_INCIDENT"
    )
    parser.add_argument("--ivr-reads", type=int, default=2, help="Read() calls in the IVR")
    parser.add_argument("--ivr-timeout", default="1.5", help="Read()'s timeout (seconds)")
    parser.add_argument("--ivr-options", default="", help="Read()'s options, e.g. e")
    parser.add_argument("--ivr-hang", action="store_true", help="the IVR never answers")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

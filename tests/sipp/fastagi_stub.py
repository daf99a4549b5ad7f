"""A FastAGI stand-in for checking the dialplan's bounded, fail-open intake by hand.

    python tests/sipp/fastagi_stub.py hang            # accepts, reads the env, never answers
    python tests/sipp/fastagi_stub.py close           # reads the env, then closes the socket
    python tests/sipp/fastagi_stub.py intake --room sale --prio 7
                                                      # a trivial complete intake
    python tests/sipp/fastagi_stub.py intake --delay 10
                                                      # sets room and priority, then stalls
                                                      # before L19_INCIDENT

It is not the gateway: it exists to show what Asterisk does with each kind of AGI peer
(see docs/asterisk_sandbox.md). Listens on 127.0.0.1:4573 unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

FACTS = '"${L19_TRUNK}|${CHANNEL(linkedid)}|${L19_DEFAULT_ROOM}|${L19_CARRIER}"'


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


async def serve(args: argparse.Namespace) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        env = await read_env(reader)
        uniqueid = env.get("agi_uniqueid", "?")
        print(
            f"{uniqueid}: {env.get('agi_network_script')} from {env.get('agi_callerid')!r}",
            flush=True,
        )
        try:
            if args.mode == "hang":
                await reader.read()  # until Asterisk closes its end
            elif args.mode == "intake":
                facts = await command(reader, writer, f"GET FULL VARIABLE {FACTS}")
                print(f"{uniqueid}: facts {facts}", flush=True)
                await command(reader, writer, f"SET VARIABLE L19_ROOM {args.room}")
                await command(reader, writer, f"SET VARIABLE L19_PRIO {args.prio}")
                await asyncio.sleep(args.delay)
                reply = await command(reader, writer, f"SET VARIABLE L19_INCIDENT INC-{uniqueid}")
                print(f"{uniqueid}: L19_INCIDENT set: {reply!r}", flush=True)
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
    parser.add_argument("mode", choices=["hang", "close", "intake"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4573)
    parser.add_argument("--room", default="sale")
    parser.add_argument("--prio", type=int, default=7)
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to stall before setting L19_INCIDENT"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

"""The lint's hot paths in C (``native/``): see :mod:`.extensions`."""

def plain_pairs(
    lines: list[bytes], screened: bool = True, /
) -> tuple[bytes, bytes, list[int]] | None: ...
def suspect_lines(lines: list[bytes], /) -> list[int]: ...
def chat_pairs(
    lines: list[bytes], /
) -> tuple[list[int | None], list[int | None], list[bool | None]]: ...
def departures(
    prompts: list[object],
    completions: list[object],
    separator: str,
    separator_rare: str,
    stop: str,
    stop_rare: str,
    separator_inside: bool,
    stop_inside: bool,
    leading_space: bool,
    /,
) -> list[int] | None: ...
def plain_departures(
    lines: list[bytes],
    separator: str,
    separator_rare: str,
    stop: str,
    stop_rare: str,
    separator_inside: bool,
    stop_inside: bool,
    leading_space: bool,
    /,
) -> list[int] | None: ...
def chats_to_walk(
    datas: list[dict[str, object] | None], raws: list[bytes] | None = None, /
) -> list[int]: ...
def read_run(
    buffer: bytes,
    start: int,
    limit: int,
    final: bool,
    loads: object,
    error: object,
    lazy: int = 0,
    /,
) -> tuple[list[bytes], list[dict[str, object] | None], list[int], list[int], int]: ...
def file_newlines(fd: int, start: int, end: int, /) -> int: ...

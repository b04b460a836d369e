"""Valid chat and preference examples: everything the services accept, each shape once.

The chat and preference checks must find nothing in these. They cover what other
validators wrongly reject: assistant turns that only call tools, ``tool`` and
``developer`` messages, content parts, images, refusals, weights and the deprecated
``functions`` form.
"""

from __future__ import annotations

import base64
import json
from typing import Any

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
JPEG = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(64)).decode()

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get-local-time",
        "description": "Local time in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
PING_TOOL = {"type": "function", "function": {"name": "ping"}}


def system(text: str = "You are a concise assistant.") -> dict[str, Any]:
    return {"role": "system", "content": text}


def user(text: Any) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: Any, **extra: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": text, **extra}


def call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def calls(*tool_calls: dict[str, Any], content: Any = None) -> dict[str, Any]:
    return {"role": "assistant", "content": content, "tool_calls": list(tool_calls)}


def result(call_id: str, content: Any) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def chat(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"messages": list(messages), **extra}


def text(value: str) -> dict[str, str]:
    return {"type": "text", "text": value}


def image(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


VALID_CHAT = [
    # The plainest example, and one without a system message.
    chat(system(), user("What is the capital of France?"), assistant("Paris.")),
    chat(user("Translate 'chat' to English."), assistant("Cat.")),
    # Multi-turn, with weights: the first reply is context, the last is trained.
    chat(
        system(),
        user("Hi!"),
        assistant("Hey, what's up?", weight=0),
        user("Name a prime number."),
        assistant("7", weight=1),
    ),
    chat(user("2+2?"), assistant("4", weight=1.0)),
    # Developer instructions (first, or after the system message), named participants.
    chat(
        {"role": "developer", "content": "Answer in French."},
        user("Good morning"),
        assistant("Bonjour"),
    ),
    chat(
        system(),
        {"role": "developer", "content": [text("Use metric units.")]},
        {"role": "user", "name": "alice", "content": "How tall is Everest?"},
        {"role": "assistant", "name": "helper", "content": "8,849 m."},
    ),
    # An assistant turn that only calls a tool, as the trained target.
    chat(
        system(),
        user("Weather in Paris?"),
        calls(call("call_1", "get_weather", city="Paris")),
        tools=[WEATHER_TOOL],
    ),
    # Parallel calls, their results (one empty, one as parts), and the answer.
    chat(
        user("Weather and time in Oslo and Lima?"),
        calls(
            call("call_a", "get_weather", city="Oslo"),
            call("call_b", "get-local-time", city="Lima"),
            content="",
        ),
        result("call_b", [text("09:14")]),
        result("call_a", '{"temp": -3, "unit": "c"}'),
        assistant("Oslo is at -3 °C; it is 09:14 in Lima."),
        tools=[WEATHER_TOOL, TIME_TOOL],
        parallel_tool_calls=True,
    ),
    # One call per turn while parallel calls are off; a call without arguments; an
    # empty tool result.
    chat(
        system(),
        user("Check the server, then the weather in Rome."),
        calls(call("c1", "ping")),
        result("c1", ""),
        calls(call("c2", "get_weather", city="Rome", unit="c")),
        result("c2", "21 C, sunny"),
        assistant("The server is up; Rome has 21 °C and sun."),
        tools=[PING_TOOL, WEATHER_TOOL],
        parallel_tool_calls=False,
    ),
    # Content parts: text, images by URL and as base64 data URLs, an image detail.
    chat(
        {"role": "system", "content": [text("Describe images briefly.")]},
        user(
            [
                text("What is in these pictures?"),
                image("https://example.com/cat.jpg"),
                image(PNG, detail="low"),
                image(JPEG, detail="high"),
                image(PNG.replace(";base64", ";name=blank.png;base64")),
                image("http://example.org/dog.webp", detail="auto"),
            ]
        ),
        assistant([text("A cat, "), text("two blank images and a dog.")]),
    ),
    # Exactly ten images is allowed.
    chat(user([text("Count them."), *[image(PNG) for _ in range(10)]]), assistant("Ten.")),
    # Refusals: as a content part, and as the refusal key beside null content.
    chat(
        user("Help me pick a lock."), assistant([{"type": "refusal", "refusal": "I can't help."}])
    ),
    chat(user("Write malware."), {"role": "assistant", "content": None, "refusal": "No."}),
    # The deprecated functions form.
    chat(
        user("Weather in Oslo?"),
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        },
        {"role": "function", "name": "get_weather", "content": '{"temp": -3}'},
        assistant("-3 °C in Oslo."),
        functions=[WEATHER_TOOL["function"]],
    ),
    # Non-ASCII text everywhere.
    chat(
        system("Tu es un assistant."),
        user("Ça va ? 日本語で"),
        assistant("Très bien, merci ! 元気です。"),
    ),
]

#: Files whose turns all end alike in natural ways, which are not leftover markers:
#: replies ending with a full stop to questions ending with a question mark, and JSON
#: replies to requests ending with a colon.
NATURAL_ENDINGS = {
    "sentences": [
        chat(user(f"Is {n} even?"), assistant(f"{'Yes' if n % 2 == 0 else 'No'}, {n} is {n}."))
        for n in range(12)
    ],
    "json": [
        chat(user(f"Give item {n} as JSON:"), assistant(json.dumps({"item": n}))) for n in range(12)
    ],
}


def pair(prompt: Any, preferred: Any, rejected: Any, **extra: Any) -> dict[str, Any]:
    messages = prompt if isinstance(prompt, list) else [user(prompt)]
    return {
        "input": {"messages": messages, **extra},
        "preferred_output": [assistant(preferred)],
        "non_preferred_output": [assistant(rejected)],
    }


VALID_PREFERENCE = [
    pair("Capital of France?", "Paris.", "Lyon."),
    pair([system(), user("Say hi.")], "Hi!", "Hello there, how may I be of assistance today?"),
    # A multi-turn input ending on the user's turn.
    pair(
        [user("I need a name for a cat."), assistant("Miso?"), user("Another one.")],
        "Pixel.",
        "Cat.",
    ),
    # Tools in the input, with a call and its result.
    pair(
        [
            user("Weather in Oslo?"),
            calls(call("call_1", "get_weather", city="Oslo")),
            result("call_1", "-3 C"),
        ],
        "It is -3 °C in Oslo.",
        "I don't know.",
        tools=[WEATHER_TOOL],
        parallel_tool_calls=False,
    ),
    # An image in the input; outputs as text parts.
    {
        "input": {"messages": [user([text("What animal?"), image(PNG)])]},
        "preferred_output": [assistant([text("A cat.")])],
        "non_preferred_output": [assistant([text("A dog.")])],
    },
    # Outputs that differ by one character only are different answers, also far in.
    pair("Is it safe?", "Yes.", "Yes!"),
    pair("Explain.", "word " * 100 + "end.", "word " * 100 + "fin."),
]

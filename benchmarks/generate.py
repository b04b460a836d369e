"""Deterministic generator of realistic fine-tuning datasets for benchmarks.

    python benchmarks/generate.py prompt_completion 1000000 benchmarks/data/pc.jsonl
    python benchmarks/generate.py chat 100000 benchmarks/data/chat.jsonl
    python benchmarks/generate.py chat 100000 benchmarks/data/chat_ascii.jsonl --text ascii

Prompt/completion rows are support tickets classified or answered in the usual legacy
layout (`` ->`` separator, leading space, ``\\n`` stop); chat rows are support
conversations with a system prompt, one to four turns, and for some a tool the
assistant calls. Lengths vary the way real tickets do (a long tail), and the same seed
always gives the same bytes.

The text is multilingual, as the data people fine-tune on is: over half the records
hold non-ASCII text (accented Latin, curly quotes and dashes, Cyrillic, CJK, emoji with
joined sequences and flags), and a few records per thousand hold a rare problem (a
control character, mojibake, a lone surrogate, a secret, an e-mail address, an
unfilled placeholder, a special token). ``--text ascii`` writes the same records with
every non-ASCII character replaced by ``x``: the same file made ASCII, to tell what
non-ASCII text costs.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path


def words(text: str) -> list[str]:
    """The words of ``text``: a sentence reads better than a list of strings."""
    return text.split()


WORDS = words(
    "order parcel refund invoice account password delivery tracking screen battery "
    "charger update firmware warranty replacement subscription payment card address "
    "courier box broken cracked missing late twice charged login email verification "
    "reset factory bluetooth wifi app crash error noise display speaker keyboard cable "
    "store return please thanks hello morning urgent yesterday week month today again "
    "still never"
)
# Words of the languages customers write in besides English, and what they put around
# them: accented Latin, Cyrillic, CJK (no spaces between words), emoji.
ACCENTED = words(
    "café résumé naïve façade über Größe Straße señor niño mañana déjà zażółć "
    "gęślą Ørsted Ångström crème brûlée São Paulo Bogotá Zürich Kraków Malmö "
    "garçon entrepôt reçu livré commandé remboursé défectueux Lieferung kaputt "
    "Rückerstattung envío devolución pedido"
)
CYRILLIC = words(
    "заказ доставка возврат пароль спасибо здравствуйте посылка оплата карта "
    "экран батарея ошибка приложение курьер сломан вчера сегодня снова"
)
CJK = words(
    "订单 退款 配送 密码 发票 账户 屏幕 电池 谢谢 你好 注文 返品 配達 "
    "パスワード 画面 ありがとう 주문 환불 배송 비밀번호 감사합니다"
)
EMOJI = [
    "😀", "👍", "🙏", "😡", "📦", "🚚", "💳", "❤️", "✅", "❌",
    "👍🏽", "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "🇫🇷", "🇯🇵", "🇧🇷", "🇺🇦",
]  # fmt: skip
LABELS = [" billing", " shipping", " account", " technical", " returns", " other"]
WEIGHTS = [30, 25, 18, 15, 8, 4]

# The rare problems, each in about RARE records per million: what the content checks
# are for, at the rate a real export has them.
RARE = 1500
RARE_TEXTS: list[Callable[[random.Random], str]] = [
    lambda rng: "Total:\x07 42",  # a control character (FT407)
    lambda rng: "the cafÃ© said itâ€™s closed",  # mojibake (FT406)
    lambda rng: "my key is sk-proj-" + "".join(rng.choices("abcdefXYZ0123456789", k=40)),
    lambda rng: f"write to jane.doe{rng.randint(1, 999)}@gmail.com",  # personal data
    lambda rng: "Dear {{customer_name}}, thanks",  # an unfilled placeholder (FT403)
    lambda rng: "Regards, [Your Name]",
    lambda rng: "done<|endoftext|>",  # a special token (FT409)
    lambda rng: "cut emoji \ud83d here",  # a lone surrogate (FT408)
]


def english(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", "."])


def accented(rng: random.Random, low: int, high: int) -> str:
    # English with a few foreign words, curly quotes and dashes: the most common case.
    words = rng.choices(WORDS, k=rng.randint(low, high))
    for _ in range(rng.randint(1, 3)):
        words[rng.randrange(len(words))] = rng.choice(ACCENTED)
    if rng.random() < 0.5:
        at = rng.randrange(len(words))
        words[at] = f"“{words[at]}”"
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words)), rng.choice(["—", "–", "…", "’s"]))  # noqa: RUF001
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", "…"])


def cyrillic(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(CYRILLIC, k=rng.randint(low, high))).capitalize() + "."


def cjk(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choices(CJK, k=rng.randint(low, high) // 2 + 1)) + "。"


def with_emoji(rng: random.Random, low: int, high: int) -> str:
    return english(rng, low, high) + " " + " ".join(rng.choices(EMOJI, k=rng.randint(1, 3)))


STYLES = [english, accented, cyrillic, cjk, with_emoji]
# Over half of the records hold some non-ASCII text; English alone stays the largest.
STYLE_WEIGHTS = [42, 30, 10, 10, 8]


class Text:
    """The sentences of one record, in the language the record's customer writes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.style = rng.choices(STYLES, STYLE_WEIGHTS)[0]
        self.rare = rng.randrange(1_000_000) < RARE * len(RARE_TEXTS)

    def paragraph(self, sentences: int) -> str:
        rng = self.rng
        parts = [self.style(rng, 5, 18) for _ in range(sentences)]
        if self.rare:
            self.rare = False
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(RARE_TEXTS)(rng))
        return " ".join(parts)


def prompt_completion(rng: random.Random) -> dict[str, object]:
    text = Text(rng)
    # A long tail: most tickets are a few sentences, some are pages.
    length = min(60, int(rng.paretovariate(1.6) * 4))
    prompt = f"Customer #{rng.randint(10_000, 99_999)}: {text.paragraph(length)} ->"
    if rng.random() < 0.5:
        completion = rng.choices(LABELS, WEIGHTS)[0] + "\n"
    else:
        completion = " " + text.paragraph(rng.randint(1, 6)) + "\n"
    return {"prompt": prompt, "completion": completion}


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "track_parcel",
            "description": "Where a parcel is, by its tracking number.",
            "parameters": {
                "type": "object",
                "properties": {"tracking_number": {"type": "string"}},
                "required": ["tracking_number"],
            },
        },
    }
]


def chat(rng: random.Random) -> dict[str, object]:
    text = Text(rng)
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "You are a concise, friendly support assistant."}
    ]
    record: dict[str, object] = {"messages": messages}
    tool = rng.random() < 0.2
    if tool:
        record["tools"] = TOOLS
    turns = min(8, int(rng.paretovariate(1.8)))
    for turn in range(turns):
        messages.append({"role": "user", "content": text.paragraph(rng.randint(1, 8))})
        if tool and turn == 0:
            call = f"call_{rng.randrange(16**12):012x}"
            number = f"{rng.randrange(10**12):012d}"
            messages.append(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": call,
                            "type": "function",
                            "function": {
                                "name": "track_parcel",
                                "arguments": json.dumps({"tracking_number": number}),
                            },
                        }
                    ],
                }
            )
            status = text.paragraph(1)
            messages.append(
                {"role": "tool", "tool_call_id": call, "content": json.dumps({"status": status})}
            )
        messages.append({"role": "assistant", "content": text.paragraph(rng.randint(1, 6))})
    return record


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def rows(kind: str, count: int, seed: int, text: str = "multilingual") -> Iterator[str]:
    """The lines of a file: ``text`` is ``multilingual``, or ``ascii`` for it made ASCII."""
    rng = random.Random(seed)
    make = prompt_completion if kind == "prompt_completion" else chat
    for _ in range(count):
        try:
            line = json.dumps(make(rng), ensure_ascii=False)
            line.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate: only a \u escape can write it, as exporters do.
            line = json.dumps(json.loads(line))
        yield _NON_ASCII.sub("x", line) if text == "ascii" else line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("kind", choices=["prompt_completion", "chat"])
    parser.add_argument("rows", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--text", choices=["multilingual", "ascii"], default="multilingual")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a file cut short by an interrupted run is never used.
    partial = args.output.with_name(args.output.name + ".partial")
    with partial.open("w", encoding="utf-8") as stream:
        for row in rows(args.kind, args.rows, args.seed, args.text):
            stream.write(row + "\n")
    partial.replace(args.output)
    print(f"{args.output}: {args.rows:,} rows, {args.output.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()

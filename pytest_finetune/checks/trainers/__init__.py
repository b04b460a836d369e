"""FT7xx: the formats of open-source trainers and of providers other than OpenAI.

Each format's shape is checked natively, as its trainer or service documents it, and
findings name the fields as the file writes them: Alpaca and ShareGPT as LLaMA-Factory
reads them (:mod:`.llamafactory`), the TRL dataset types (:mod:`.trl`), Vertex AI's
Gemini ``contents`` (:mod:`.gemini`) and Amazon Bedrock's Claude and Nova records
(:mod:`.bedrock`). What a conversation says (empty turns, role order, tool calls,
secrets, duplicates, tokens) is checked by the chat, preference and content checks,
which read these records through their OpenAI view (:func:`pytest_finetune.formats.view`).
"""

from pytest_finetune.checks.trainers import bedrock, gemini, llamafactory, trl

__all__ = ["bedrock", "gemini", "llamafactory", "trl"]

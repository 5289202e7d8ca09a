"""Optional phrasing of the agent's reply by an OpenAI-compatible endpoint. No database here.

``DOKANI_AGENT_LLM_URL`` + ``DOKANI_AGENT_LLM_MODEL`` turn it on (optional ``DOKANI_AGENT_LLM_API_KEY``,
``DOKANI_AGENT_LLM_TIMEOUT``). Decisions stay with the engine: a failure, or a rephrasing that drops an
order id, number or decision word, falls back to the deterministic wording.
"""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any

from dokani.lab.personas import PersonaStyle

_PROTECTED = re.compile(r"#?\b[A-Za-z]*[-_]?\d[\w\-.%]*\b|\b(approved|denied|review|final sale)\b", re.I)


def llm_settings() -> dict[str, Any] | None:
    url = os.environ.get("DOKANI_AGENT_LLM_URL", "").strip()
    model = os.environ.get("DOKANI_AGENT_LLM_MODEL", "").strip()
    if not url or not model:
        return None
    return {
        "url": url.rstrip("/") + ("" if url.rstrip("/").endswith("/chat/completions") else "/chat/completions"),
        "model": model,
        "key": os.environ.get("DOKANI_AGENT_LLM_API_KEY", ""),
        "timeout": float(os.environ.get("DOKANI_AGENT_LLM_TIMEOUT", "8") or 8),
    }


def phrase(reply: str, style: PersonaStyle) -> tuple[str, str]:
    """(text, 'llm') when the configured endpoint rephrased it faithfully, else (reply, 'rules')."""
    settings = llm_settings()
    if settings is None:
        return reply, "rules"
    body = {
        "model": settings["model"],
        "temperature": 0,
        "messages": [
            {"role": "system", "content": (
                f"You are {style.persona_name}, a customer-service agent with a {style.tone} tone. Rephrase the "
                "reply you are given in that tone. Keep every fact, order id, number and decision exactly; add "
                "no promises or facts. Answer with the reply only.")},
            {"role": "user", "content": reply},
        ],
    }
    request = urllib.request.Request(
        settings["url"], data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {settings['key']}"} if settings["key"] else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings["timeout"]) as response:
            payload = json.loads(response.read().decode("utf-8"))
        text_ = str(payload["choices"][0]["message"]["content"]).strip()
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError):
        return reply, "rules"
    if not text_ or len(text_) > 4 * len(reply) + 200:
        return reply, "rules"
    lowered = text_.lower()
    if any(m.group(0).lower().lstrip("#") not in lowered for m in _PROTECTED.finditer(reply)):
        return reply, "rules"  # a fact or decision went missing: keep the engine's words
    return text_, "llm"

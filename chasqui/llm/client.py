"""An OpenAI-compatible chat client: per-call settings from the DB, a timeout, a circuit breaker,
and token usage with an estimated cost for every call.

Works against any endpoint that speaks ``/v1/chat/completions`` with tools (OpenAI, Azure OpenAI,
Ollama, vLLM, llama.cpp server). The ``openai`` SDK is imported on first use, so a bot without an
LLM never loads it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from chasqui.config import Settings

log = logging.getLogger(__name__)

# USD per million tokens (prompt, completion); the longest matching prefix of the model name wins.
# Models not listed (local ones: Ollama, vLLM, llama.cpp) cost 0 unless the platform settings
# ``llm_price_input_per_mtok`` / ``llm_price_output_per_mtok`` say otherwise.
PRICES_PER_MTOK: dict[str, tuple[str, str]] = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1": ("2.00", "8.00"),
    "gpt-3.5-turbo": ("0.50", "1.50"),
}
NO_KEY = "not-needed"  # local servers ignore the key, but the SDK wants one


@dataclass(frozen=True)
class LLMSettings:
    """What one call uses; read from the platform settings for every conversation turn."""

    base_url: str
    api_key: str
    model: str
    temperature: float = 0.3
    max_tokens: int = 300
    timeout_s: float = 8.0
    max_reply_chars: int = 400
    max_reply_sentences: int = 3
    price_input_per_mtok: float | None = None
    price_output_per_mtok: float | None = None

    @classmethod
    def load(cls, session: Session, settings: Settings) -> LLMSettings | None:
        """None when no endpoint is configured: ``CHASQUI_LLM_BASE_URL``, else the platform setting
        ``llm_base_url``."""
        from chasqui.crypto import DecryptionError
        from chasqui.db.platform_settings import get_typed

        secret = settings.secret()
        base_url = (settings.llm_base_url or get_typed(session, "llm_base_url") or "").strip()
        if not base_url:
            return None
        try:
            key = get_typed(session, "llm_api_key", secret_key=secret)
        except DecryptionError:
            log.error("llm_api_key cannot be decrypted with this secret key; using CHASQUI_LLM_API_KEY")
            key = None
        if not key and settings.llm_api_key is not None:
            key = settings.llm_api_key.get_secret_value()

        def typed(name: str) -> Any:
            return get_typed(session, name, secret_key=secret)

        return cls(
            base_url=base_url,
            api_key=key or NO_KEY,
            model=typed("llm_model") or settings.llm_model,
            temperature=float(typed("llm_temperature")),
            max_tokens=int(typed("llm_max_tokens")),
            timeout_s=float(typed("llm_timeout_seconds")),
            max_reply_chars=int(typed("llm_max_reply_chars")),
            max_reply_sentences=int(typed("llm_max_reply_sentences")),
            price_input_per_mtok=typed("llm_price_input_per_mtok"),
            price_output_per_mtok=typed("llm_price_output_per_mtok"),
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        price_in, price_out = _prices(self.model)
        if self.price_input_per_mtok is not None:
            price_in = Decimal(str(self.price_input_per_mtok))
        if self.price_output_per_mtok is not None:
            price_out = Decimal(str(self.price_output_per_mtok))
        total = (price_in * prompt_tokens + price_out * completion_tokens) / Decimal(1_000_000)
        return total.quantize(Decimal("0.000001"))


def _prices(model: str) -> tuple[Decimal, Decimal]:
    name = model.lower().rsplit("/", 1)[-1]
    for prefix in sorted(PRICES_PER_MTOK, key=len, reverse=True):
        if name.startswith(prefix):
            price_in, price_out = PRICES_PER_MTOK[prefix]
            return Decimal(price_in), Decimal(price_out)
    return Decimal(0), Decimal(0)


@dataclass(frozen=True)
class Usage:
    """One LLM call, as recorded in ``llm_usage``."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    ok: bool = True


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # raw JSON text, as the model wrote it
    id: str = ""

    def parsed(self) -> dict[str, Any] | None:
        """The arguments as a JSON object, or None when they are not one."""
        try:
            value = json.loads(self.arguments or "{}")
        except (json.JSONDecodeError, TypeError):
            return None
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Completion:
    content: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage


class LLMUnavailable(Exception):
    """No usable answer: the circuit is open, the call timed out, was rate-limited or failed."""

    def __init__(self, reason: str, usage: Usage | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage


class CircuitBreaker:
    """After ``threshold`` failures in a row, skip the LLM for ``cooldown_s``; then let one call
    through (half-open): a success closes the circuit, a failure opens it again."""

    def __init__(self, threshold: int = 3, cooldown_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None and self.clock() - self._opened_at < self.cooldown_s

    def allow(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            if self.clock() - self._opened_at < self.cooldown_s or self._trial:
                return False
            self._trial = True  # half-open: this caller is the one trial
            return True

    def success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.threshold:
                self._opened_at = self.clock()
            self._trial = False


@dataclass
class LLMClient:
    """One per process (per runtime): it holds the circuit breaker and the SDK clients."""

    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    _clients: dict[tuple[str, str, float], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _sdk(self, config: LLMSettings) -> Any:
        key = (config.base_url, config.api_key, config.timeout_s)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                import openai

                client = openai.OpenAI(base_url=config.base_url, api_key=config.api_key,
                                       timeout=config.timeout_s, max_retries=0)
                self._clients[key] = client
            return client

    def complete(self, config: LLMSettings, messages: list[dict[str, Any]],
                 tools: list[dict[str, Any]] | None = None, tool_choice: str | None = None) -> Completion:
        """One chat completion. Raises ``LLMUnavailable`` (with the usage of a failed call)."""
        failed = Usage(model=config.model, ok=False)
        if not self.breaker.allow():
            raise LLMUnavailable("circuit_open")
        request: dict[str, Any] = {
            "model": config.model, "messages": messages, "temperature": config.temperature,
            "max_tokens": config.max_tokens,
        }
        if tools:
            request["tools"] = tools
            if tool_choice:
                request["tool_choice"] = tool_choice
        try:
            response = self._sdk(config).chat.completions.create(**request)
            choice = response.choices[0]
        except Exception as exc:  # any transport, status or parsing error of the SDK
            self.breaker.failure()
            reason = _reason(exc)
            log.warning("LLM call failed (%s): %s", reason, str(exc)[:200])
            raise LLMUnavailable(reason, failed) from exc
        self.breaker.success()
        prompt_tokens, completion_tokens = _tokens(response)
        usage = Usage(model=config.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                      cost_usd=config.cost(prompt_tokens, completion_tokens))
        message = choice.message
        calls = tuple(
            ToolCall(name=c.function.name, arguments=c.function.arguments or "", id=c.id or "")
            for c in (message.tool_calls or ()) if getattr(c, "function", None) is not None
        )
        return Completion(content=message.content or "", tool_calls=calls, usage=usage)


def _tokens(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)


def _reason(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    return "error"

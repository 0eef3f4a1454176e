"""Pacing of outbound messages within Meta's WhatsApp Cloud API limits.

Meta enforces two rates on what a business sends:

* throughput: about 80 messages per second per business phone number (here: per tenant, one
  WhatsApp number each);
* pair rate: to one customer, a burst of up to 45 messages in 6 seconds, then about one message
  every 6 seconds (after a full burst, the budget of 45 refills in ~270 s). Going over is answered
  with error 131056 (retried, but the customer waits longer than needed).

Both are token buckets, implemented as GCRA (generic cell rate algorithm): per key one number, the
*theoretical arrival time* (TAT). With emission interval ``T = 1 / rate`` and burst tolerance
``tau = (burst - 1) * T``, a message at time ``now`` may go when ``max(TAT, now) - tau <= now``,
and then ``TAT = max(TAT, now) + T``; otherwise it waits ``max(TAT, now) - tau - now`` seconds and
nothing changes. One timestamp per key (no counters, no window lists, no refill timer): cheap in
memory, one ``GET``/``SET`` in Redis, and a key whose TAT is in the past equals no key at all, so
keys simply expire.

``Pacer.reserve(number_key, recipient)`` checks the number's and the pair's bucket together and
consumes both only when both allow the message: it returns 0.0 (go now) or a positive wait
(nothing consumed). A wait caused by the number is a ``Wait`` with ``number=True``: it is the time
until the number may send anything again (the pair may still hold this message back then).

* ``MemoryPacer``: one process (embedded mode, a single ``chasqui worker``); thread-safe.
* ``RedisPacer``: several ``chasqui worker`` processes sharing the limits (distributed mode); one
  Lua script checks and updates both keys atomically, with Redis's own clock (``TIME``) so every
  process agrees on "now". If Redis cannot be reached it lets messages go (logged): Meta's own
  rate-limit errors are retried by the outbox anyway, pacing only avoids them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PacingPolicy:
    """Meta's limits; a rate of 0 turns that limit off."""

    number_per_s: float = 80.0  # messages per second per business number (burst: one second's worth)
    pair_interval_s: float = 6.0  # to one customer, after the burst: one message every this many seconds
    pair_burst: int = 45  # to one customer: this many at once

    @property
    def number_on(self) -> bool:
        return self.number_per_s > 0

    @property
    def pair_on(self) -> bool:
        return self.pair_interval_s > 0 and self.pair_burst > 0

    @property
    def enabled(self) -> bool:
        return self.number_on or self.pair_on

    @property
    def number_interval_s(self) -> float:
        return 1.0 / self.number_per_s if self.number_on else 0.0

    @property
    def number_burst(self) -> int:
        return max(1, math.ceil(self.number_per_s)) if self.number_on else 0


class Wait(float):
    """Seconds to wait before ``reserve`` may succeed; ``number``: the number's budget (not only the
    pair's) holds it back, so nothing else of that number can go before then either."""

    number: bool = False

    def __new__(cls, seconds: float, *, number: bool = False) -> Wait:
        wait = super().__new__(cls, seconds)
        wait.number = number
        return wait


class Pacer(Protocol):
    def reserve(self, number_key: str, recipient: str) -> float:
        """0.0 when a message from ``number_key`` to ``recipient`` may go now (the budget of the number
        and of the pair is then consumed), else the seconds to wait (nothing consumed)."""
        ...


def gcra(tat: float | None, now: float, interval: float, burst: int) -> tuple[float, float | None]:
    """One GCRA step: (seconds to wait, None) or (0.0, the key's new TAT)."""
    tat = now if tat is None or tat < now else tat
    allowed_at = tat - (burst - 1) * interval
    if allowed_at - now > 1e-9:  # not a float rounding of "now" (1/80 added 80 times)
        return allowed_at - now, None
    return 0.0, tat + interval


class MemoryPacer:
    """GCRA in this process's memory (``clock``: monotonic seconds, injectable for tests)."""

    PRUNE_EVERY = 4096  # reservations between sweeps of keys whose TAT has passed

    def __init__(self, policy: PacingPolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or PacingPolicy()
        self.clock = clock
        self._tat: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def reserve(self, number_key: str, recipient: str) -> float:
        policy = self.policy
        number, pair = (number_key,), (number_key, recipient)
        with self._lock:
            now = self.clock()
            self._prune(now)
            number_tat = pair_tat = None
            if policy.number_on:
                wait, number_tat = gcra(self._tat.get(number), now, policy.number_interval_s, policy.number_burst)
                if wait > 0:
                    return Wait(wait, number=True)
            if policy.pair_on:
                wait, pair_tat = gcra(self._tat.get(pair), now, policy.pair_interval_s, policy.pair_burst)
                if wait > 0:
                    return Wait(wait)
            if number_tat is not None:
                self._tat[number] = number_tat
            if pair_tat is not None:
                self._tat[pair] = pair_tat
            return 0.0

    def _prune(self, now: float) -> None:
        self._calls += 1
        if self._calls % self.PRUNE_EVERY == 0:
            self._tat = {key: tat for key, tat in self._tat.items() if tat > now}


# KEYS: the number's key, the pair's key. ARGV: number interval (µs), number burst, pair interval
# (µs), pair burst; an interval of 0 turns that limit off. Returns {wait µs, 0 | 1 number | 2 pair}.
# TATs are integer microseconds of Redis's clock, stored with %.0f (tostring would round them).
_RESERVE = """
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function step(key, interval, burst)
  if interval <= 0 then return 0, nil end
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local allowed_at = tat - (burst - 1) * interval
  if allowed_at > now then return allowed_at - now, nil end
  return 0, tat + interval
end
local function store(key, tat)
  if tat then
    redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
  end
end
local wait, number_tat = step(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if wait > 0 then return {math.ceil(wait), 1} end
local pair_tat
wait, pair_tat = step(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
if wait > 0 then return {math.ceil(wait), 2} end
store(KEYS[1], number_tat)
store(KEYS[2], pair_tat)
return {0, 0}
"""


@dataclass
class RedisPacer:
    """GCRA in Redis, shared by every process using the same ``prefix`` (the installation's queue
    name in ``chasqui worker``). Both keys of a reservation carry the number as hash tag, so they
    live in one slot of a Redis Cluster too."""

    client: Any  # a sync ``redis.Redis``
    policy: PacingPolicy = field(default_factory=PacingPolicy)
    prefix: str = "chasqui:pace"
    _script: Any = field(init=False, repr=False)
    _errors: tuple[type[Exception], ...] = field(init=False, repr=False)
    _warned_at: float = field(default=-math.inf, init=False, repr=False)

    def __post_init__(self) -> None:
        from redis.exceptions import RedisError

        self._script = self.client.register_script(_RESERVE)
        self._errors = (RedisError, OSError)

    @classmethod
    def from_url(cls, url: str, policy: PacingPolicy | None = None, prefix: str = "chasqui:pace") -> RedisPacer:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return cls(client, policy or PacingPolicy(), prefix)

    def keys(self, number_key: str, recipient: str) -> tuple[str, str]:
        return f"{self.prefix}:{{{number_key}}}:number", f"{self.prefix}:{{{number_key}}}:to:{recipient}"

    def reserve(self, number_key: str, recipient: str) -> float:
        policy = self.policy
        args = [
            round(policy.number_interval_s * 1e6),
            policy.number_burst,
            round(policy.pair_interval_s * 1e6) if policy.pair_on else 0,
            policy.pair_burst,
        ]
        try:
            wait_us, which = self._script(keys=self.keys(number_key, recipient), args=args)
        except self._errors as exc:  # Redis down: let it go, Meta's rate-limit errors are retried anyway
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("pacing: Redis unavailable (%s); sending unpaced", exc)
            return 0.0
        if int(wait_us) <= 0:
            return 0.0
        return Wait(int(wait_us) / 1e6, number=int(which) == 1)

    def close(self) -> None:
        self.client.close()

"""The condition language of scenario discovery: a small grammar, parsed without ``eval``.

A condition names the runs of interest, e.g. ``gdp_share_sco above 30%`` or ``trade_agreements
loses to none`` or ``gdp_share_sco[cybersecurity] - gdp_share_sco[none] > 0.5pp and not
sco_members > 10``. The grammar (``docs/discovery.md``)::

    condition := clause ("or" clause)*
    clause    := factor ("and" factor)*
    factor    := "not" factor | "(" condition ")" | duel | comparison
    duel      := STRATEGY ("loses to" | "beats") STRATEGY ["on" OUTCOME]
    comparison:= sum ("<" | "<=" | ">" | ">=" | "above" | "below") sum
    sum       := ["+" | "-"] term (("+" | "-") term)*
    term      := NUMBER ["%" | "pp"] | OUTCOME ["[" STRATEGY "]"]

Names are outcome columns of the batch and its strategies (a name with other characters in
quotes); ``winner`` and ``reference`` stand for the top-ranked and the reference strategy. A
duel compares the two strategies' paired runs on an outcome (the batch's primary by default) in
its better direction: ``A loses to B`` holds where A did strictly worse than B. A condition that
names a strategy is read over paired runs (same scenario, sweep point and replication); one
that names none, over single runs. Shares are fractions: ``30%`` and ``0.30`` are the same.
Anything else is refused with one line (``ScenarioError``).

Imports core and base only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..base.errors import ScenarioError
from ..core.outcomes import OUTCOMES, better_sign

#: Longest condition accepted, in characters, and deepest nesting of brackets and ``not``.
MAX_LENGTH = 500
MAX_DEPTH = 20

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<quoted>'[^']*'|"[^"]*")
  | (?P<op><=|>=|<|>|\(|\)|\[|\]|\+|-|%)
)""", re.VERBOSE)

_KEYWORDS = {"and", "or", "not", "loses", "beats", "to", "on", "above", "below", "pp"}
_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "above": ">", "below": "<"}


@dataclass(frozen=True)
class Number:
    """A constant (a share written as 30% or 30pp is stored as 0.30); ``unit`` as written."""

    value: float
    unit: str = ""


@dataclass(frozen=True)
class Ref:
    """An outcome, of one strategy's run in a pair (``strategy``) or of a single run (None)."""

    outcome: str
    strategy: str | None = None

    @property
    def column(self) -> str:
        """The column of the frame the condition is evaluated on."""
        return self.outcome if self.strategy is None else f"{self.outcome}[{self.strategy}]"


@dataclass(frozen=True)
class Sum:
    """Signed terms added up: ((+1, Ref), (-1, Ref)) is a difference."""

    terms: tuple[tuple[int, Number | Ref], ...]


@dataclass(frozen=True)
class Compare:
    """``left op right``; NaN on either side is false."""

    left: Sum
    op: str
    right: Sum


@dataclass(frozen=True)
class Duel:
    """``a loses to b`` (``beats=False``) or ``a beats b`` on ``outcome``, direction-aware."""

    a: str
    b: str
    outcome: str
    beats: bool


@dataclass(frozen=True)
class BoolOp:
    """``and`` / ``or`` of two or more parts, or ``not`` of one."""

    op: str
    parts: tuple


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text, its tree, and whether it is read over paired runs."""

    text: str
    tree: object
    refs: tuple[Ref, ...]

    @property
    def paired(self) -> bool:
        """True if it names strategies: rows are pairs (scenario, point, replication)."""
        return any(r.strategy is not None for r in self.refs)

    @property
    def strategies(self) -> list[str]:
        """The strategies it names, in order of first mention."""
        return list(dict.fromkeys(r.strategy for r in self.refs if r.strategy is not None))


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) of each token; an unknown character is an error naming its column."""
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise ScenarioError(f"--when: unexpected character {text[col - 1]!r} at column {col}")
        kind = m.lastgroup
        value = m.group(kind)
        col = m.start(kind) + 1
        if kind == "quoted":
            kind, value = "strategy_name", value[1:-1]
        elif kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        out.append((kind, value, col))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over the tokens, resolving names against the batch as it goes."""

    def __init__(self, text: str, outcomes: list[str], strategies: list[str],
                 aliases: dict[str, str], default_outcome: str | None):
        self.text, self.toks, self.i = text, _tokens(text), 0
        self.outcomes, self.strategies = outcomes, strategies
        self.aliases, self.default_outcome = aliases, default_outcome
        self.refs: list[Ref] = []
        self.depth = 0

    def error(self, what: str, tok=None) -> ScenarioError:
        tok = tok if tok is not None else self.peek()
        where = f"at column {tok[2]} ({tok[1]!r})" if tok else "at the end"
        return ScenarioError(f"--when: {what} {where}")

    def peek(self, k: int = 0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self, kind: str | None = None, value: str | None = None):
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (value and tok[1] != value):
            return None
        self.i += 1
        return tok

    def expect(self, kind: str, value: str | None = None, what: str = ""):
        tok = self.take(kind, value)
        if tok is None:
            raise self.error(f"expected {what or value or kind}")
        return tok

    def parse(self):
        tree = self.condition()
        if self.peek() is not None:
            raise self.error("expected 'and', 'or' or the end")
        return tree

    def nested(self, fn):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} deep")
        try:
            return fn()
        finally:
            self.depth -= 1

    def condition(self):
        parts = [self.clause()]
        while self.take("kw", "or"):
            parts.append(self.clause())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def clause(self):
        parts = [self.factor()]
        while self.take("kw", "and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def factor(self):
        if self.take("kw", "not"):
            return BoolOp("not", (self.nested(self.factor),))
        if self.take("op", "("):
            inner = self.nested(self.condition)
            self.expect("op", ")", "')'")
            return inner
        nxt = self.peek(1)
        if nxt is not None and nxt[0] == "kw" and nxt[1] in ("loses", "beats"):
            return self.duel()
        return self.comparison()

    def strategy(self) -> str:
        tok = self.take("name") or self.take("strategy_name")
        if tok is None:
            raise self.error("expected a strategy")
        name = self.aliases.get(tok[1], tok[1]) if tok[1] not in self.strategies else tok[1]
        if name not in self.strategies:
            raise self.error(f"unknown strategy (known: {', '.join(self.strategies)})", tok)
        return name

    def outcome(self, tok=None) -> str:
        tok = tok or self.take("name")
        if tok is None:
            raise self.error("expected an outcome")
        if tok[1] not in self.outcomes:
            raise self.error(f"unknown outcome (known: {', '.join(self.outcomes)})", tok)
        return tok[1]

    def duel(self) -> Duel:
        first = self.peek()
        a = self.strategy()
        beats = self.take("kw")[1] == "beats"
        if not beats:
            self.expect("kw", "to", "'to' after 'loses'")
        second = self.peek()
        b = self.strategy()
        if a == b:  # 'winner loses to reference' when the reference is the winner
            names = " and ".join(dict.fromkeys((first[1], second[1])))
            raise self.error(f"a strategy cannot duel itself ({names} are both {a})"
                             if names != a else "a strategy cannot duel itself", first)
        if self.take("kw", "on"):
            outcome = self.outcome()
        elif self.default_outcome is None:
            raise self.error("expected 'on OUTCOME' (the batch names no primary outcome)")
        else:
            outcome = self.default_outcome
        if outcome not in OUTCOMES or better_sign(outcome) == 0:
            raise ScenarioError(f"--when: outcome '{outcome}' has no better direction, so no "
                                f"strategy beats another on it; compare its values with < or >")
        self.refs += [Ref(outcome, a), Ref(outcome, b)]
        return Duel(a, b, outcome, beats)

    def comparison(self) -> Compare:
        left = self.sum()
        tok = self.peek()
        if tok is None or tok[1] not in _CMP or tok[0] not in ("op", "kw"):
            raise self.error("expected a comparison (<, <=, >, >=, above, below)")
        self.i += 1
        right = self.sum()
        cmp = Compare(left, _CMP[tok[1]], right)
        _check_units(cmp, tok)
        return cmp

    def sum(self) -> Sum:
        sign = -1 if self.take("op", "-") else 1
        if sign == 1:
            self.take("op", "+")
        terms = [(sign, self.term())]
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in "+-":
            self.i += 1
            terms.append((1 if tok[1] == "+" else -1, self.term()))
        return Sum(tuple(terms))

    def term(self):
        if tok := self.take("number"):
            value = float(tok[1])
            if not np.isfinite(value):
                raise self.error("number too large", tok)
            if self.take("op", "%"):
                return Number(value / 100, "%")
            if self.take("kw", "pp"):
                return Number(value / 100, "pp")
            return Number(value)
        tok = self.take("name")
        if tok is None:
            raise self.error("expected a number or an outcome")
        ref = Ref(self.outcome(tok), None)
        if self.take("op", "["):
            ref = Ref(ref.outcome, self.strategy())
            self.expect("op", "]", "']'")
        self.refs.append(ref)
        return ref


def _is_share(name: str) -> bool:
    return name.startswith(("gdp_share_", "pop_share_"))


def _check_units(cmp: Compare, tok) -> None:
    """Refuse comparisons whose units cannot match: 30 against a share, 5% against a count."""
    terms = [t for side in (cmp.left, cmp.right) for _, t in side.terms]
    refs = [t for t in terms if isinstance(t, Ref)]
    if not refs:
        raise ScenarioError(f"--when: the comparison at column {tok[2]} names no outcome")
    shares = {_is_share(r.outcome) for r in refs}
    if len(shares) > 1:
        raise ScenarioError(f"--when: the comparison at column {tok[2]} mixes shares with "
                            f"other outcomes ({', '.join(r.outcome for r in refs)})")
    share = shares.pop()
    for t in terms:
        if isinstance(t, Number) and t.unit and not share:
            raise ScenarioError(f"--when: '{t.unit}' applies to shares only; "
                                f"{refs[0].outcome} is not a share")
        if isinstance(t, Number) and not t.unit and share and abs(t.value) > 1:
            raise ScenarioError(f"--when: shares are fractions of 1: write {t.value:g}% "
                                f"(or {t.value / 100:g}) to compare {refs[0].outcome} with it")


def parse_condition(text: str, *, outcomes: list[str], strategies: list[str],
                    aliases: dict[str, str] | None = None,
                    default_outcome: str | None = None) -> Condition:
    """Parse ``text`` against the batch's outcome columns and strategies.

    Args:
        text: the condition (at most ``MAX_LENGTH`` characters).
        outcomes: the outcome columns a condition may name.
        strategies: the strategies a condition may name.
        aliases: other names for strategies (``winner``, ``reference``).
        default_outcome: the outcome a duel without ``on`` compares (the primary).

    Raises:
        ScenarioError: one line naming the column of the first mistake.
    """
    text = str(text)
    if not text.strip():
        raise ScenarioError("--when: the condition is empty")
    if len(text) > MAX_LENGTH:
        raise ScenarioError(f"--when: the condition is longer than {MAX_LENGTH} characters")
    p = _Parser(text, list(outcomes), list(strategies), dict(aliases or {}), default_outcome)
    tree = p.parse()
    refs = tuple(dict.fromkeys(p.refs))
    if any(r.strategy is None for r in refs) and any(r.strategy is not None for r in refs):
        bare = next(r.outcome for r in refs if r.strategy is None)
        raise ScenarioError(f"--when: a condition that names strategies must name one for every "
                            f"outcome: write e.g. {bare}[{next(r.strategy for r in refs if r.strategy)}]")
    return Condition(text.strip(), tree, refs)


def _value(node: Sum, frame: pd.DataFrame) -> np.ndarray:
    total = np.zeros(len(frame))
    for sign, t in node.terms:
        total = total + sign * (t.value if isinstance(t, Number)
                                else frame[t.column].to_numpy(dtype=float))
    return total


def _evaluate(node, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(node, BoolOp):
        parts = [_evaluate(p, frame) for p in node.parts]
        if node.op == "not":
            return ~parts[0]
        return np.logical_and.reduce(parts) if node.op == "and" else np.logical_or.reduce(parts)
    if isinstance(node, Duel):
        a = frame[Ref(node.outcome, node.a).column].to_numpy(dtype=float)
        b = frame[Ref(node.outcome, node.b).column].to_numpy(dtype=float)
        edge = better_sign(node.outcome) * (a - b)
        with np.errstate(invalid="ignore"):
            return edge > 0 if node.beats else edge < 0
    left, right = _value(node.left, frame), _value(node.right, frame)
    with np.errstate(invalid="ignore"):
        return {"<": np.less, "<=": np.less_equal, ">": np.greater,
                ">=": np.greater_equal}[node.op](left, right)


def evaluate(cond: Condition, frame: pd.DataFrame) -> np.ndarray:
    """The condition on every row of ``frame`` (columns ``Ref.column``): a boolean array."""
    return np.asarray(_evaluate(cond.tree, frame), dtype=bool)

"""The search loop: optuna proposes allocations, the evaluator scores them, a journal keeps them.

Optuna's TPE sampler (or its random sampler), seeded from the spec, proposes ``batch``
candidates at a time (ask), starting from the corners of the space (``space.corners``); they
are scored, in parallel if asked, and told back in order (with ``spend: up_to``, with the money
spent as a second objective, to be minimised). The sampler's path depends only on the
spec, never on the number of workers or on timing, so the same spec gives the same candidates
and the same files.

Every scored candidate is appended to ``journal.jsonl`` in the output folder (one JSON line:
trial number, weights, every run's outcome), flushed and synced at once. A search started again
replays the same proposals and takes the scores of the trials already in the journal instead of
running them: an interrupted search, resumed, ends exactly as one that was never interrupted,
and raising ``trials`` continues a finished one. A journal of another search (another digest of
what decides the results) is refused, and so is a damaged one (a bad line anywhere but a last
line without its newline, which a kill mid-write leaves and is dropped; over ``MAX_JOURNAL``
bytes; nested deeper than ``MAX_DEPTH``): one line naming the file and line, nothing changed.
A candidate met twice in one search is scored once.

Imports base, data, core, config, run and search only (optuna inside the functions).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model import __version__

from ..base.errors import ScenarioError
from ..base.files import os_error, read_bounded
from ..config.search import SearchSpec
from ..core.outcomes import better_sign
from .evaluate import Evaluator, Problem
from .robust import scores
from .space import Space, corners, spent, to_strategy

JOURNAL = "journal.jsonl"


#: Largest journal read (a trial is a few hundred bytes to a few KiB: ample for any search).
MAX_JOURNAL = 256 << 20
#: Deepest bracket nesting a journal line may have (a trial's is 2).
MAX_DEPTH = 8


def _damaged(path: Path, line: int, what: str) -> ScenarioError:
    return ScenarioError(f"{what}; the journal is damaged and nothing was changed (move it "
                         f"away to start the search again)", file=str(path), line=line)


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _depth(line: bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (a cheap scan before json.loads)."""
    opened = line.count(b"[") + line.count(b"{")
    if opened <= MAX_DEPTH:  # the common case
        return opened
    brackets = np.frombuffer(_STRING.sub(b"", line).translate(None, _NOT_BRACKETS), np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _journal_line(line: bytes, path: Path, number: int) -> dict:
    """One complete journal line as a JSON object, or a ScenarioError naming the line."""
    if _depth(line) > MAX_DEPTH:
        raise _damaged(path, number, f"nested deeper than {MAX_DEPTH} levels")
    try:
        doc = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _damaged(path, number, f"not JSON ({str(exc)[:80]})") from None
    if not isinstance(doc, dict):
        raise _damaged(path, number, f"a {type(doc).__name__}, not a JSON object")
    return doc


def _trial_of(doc: dict, path: Path, number: int) -> tuple[int, dict[str, float], np.ndarray]:
    """A trial line's number, weights and outcomes, checked (errors name the line)."""
    trial, params, values = doc.get("trial"), doc.get("params"), doc.get("values")
    if not isinstance(trial, int) or isinstance(trial, bool) or trial < 0:
        raise _damaged(path, number, f"'trial' must be a whole number >= 0, not {trial!r:.40}")
    if not isinstance(params, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in params.values()):
        raise _damaged(path, number, "'params' must map names to numbers")
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 2 or not isinstance(values, list):
        raise _damaged(path, number, "'values' must be a table of numbers (scenarios x runs)")
    return trial, {str(k): float(v) for k, v in params.items()}, arr



@dataclass
class Trial:
    """One scored candidate: its number, weights and outcome per (scenario, replication)."""

    number: int
    params: dict[str, float]
    values: np.ndarray


@dataclass
class SearchRun:
    """What a search did: every trial in order, and how many were scored now or found."""

    spec: SearchSpec
    space: Space
    problem: Problem
    trials: list[Trial] = field(default_factory=list)
    scored_now: int = 0
    from_journal: int = 0
    elapsed: float = 0.0


def digest(spec: SearchSpec, problem: Problem, space: Space) -> str:
    """A hash of what decides the trials (not their count, the name or the outputs' settings)."""
    import optuna

    def run_part(doc: dict) -> dict:
        return {k: v for k, v in doc.items() if k not in ("description", "key_states")}

    doc = {"version": __version__, "optuna": optuna.__version__,
           "scenarios": [run_part(d) for d in problem.scenarios], "seeds": list(problem.seeds),
           "outcome": spec.outcome, "swing_group": spec.swing_group, "budget": spec.budget,
           "spend": spec.spend, "units": [u.key for u in space.units], "batch": spec.batch,
           "sampler": spec.sampler, "step": spec.step, "seed": spec.seed,
           "robustness": spec.robustness, "percentile": spec.percentile}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class Journal:
    """The scored trials of a search, one JSON line each after a header naming its digest."""

    def __init__(self, path: Path, digest_: str):
        self.path, self.digest = Path(path), digest_
        self.trials: dict[int, tuple[dict, np.ndarray]] = {}
        if self.path.is_file():
            self._read()
        else:
            self._append({"journal": "blocsim search", "digest": digest_})

    def _read(self) -> None:
        """Load the trials; only a last line without its newline (a kill mid-write) is dropped.

        Any other bad line is refused with the file and line, and the file is left as it was.
        """
        raw = read_bounded(self.path, MAX_JOURNAL, what="search journal")
        lines = raw.split(b"\n")
        torn = lines.pop()  # b"" when the file ends with a newline
        for k, line in enumerate(lines):
            doc = _journal_line(line, self.path, k + 1)
            if k == 0:
                if doc.get("digest") != self.digest:
                    raise ScenarioError(f"{self.path} is the journal of another search (digest "
                                        f"{str(doc.get('digest'))[:12]}, not {self.digest[:12]}); "
                                        f"nothing was changed: choose another --out")
            else:
                number, params, values = _trial_of(doc, self.path, k + 1)
                self.trials[number] = (params, values)
        if not lines:
            raise ScenarioError(f"{self.path}: no header line; is it damaged? (move it away to "
                                f"start the search again)")
        if torn:
            with open(self.path, "r+b") as fh:
                fh.truncate(len(raw) - len(torn))

    def _append(self, doc: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(doc) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise os_error(exc, self.path) from None

    def add(self, trial: Trial) -> None:
        """Record a scored trial (at once, synced to disk)."""
        self.trials[trial.number] = (trial.params, trial.values)
        self._append({"trial": trial.number, "params": trial.params,
                      "values": trial.values.tolist()})


def _sampler(spec: SearchSpec):
    import optuna

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate and constant_liar are marked experimental
        return optuna.samplers.TPESampler(seed=spec.seed, multivariate=True, constant_liar=True,
                                          n_startup_trials=min(20, max(4, spec.trials // 10)))


def run_search(spec: SearchSpec, problem: Problem, space: Space, out_dir: Path, *,
               workers: int = 1, evaluator: Callable | None = None,
               progress: Callable[[int, int, float], None] | None = None) -> SearchRun:
    """Search ``spec.trials`` candidates (those in the journal are not run again).

    Args:
        spec, problem, space: the search, its scenarios and seeds, its variables.
        out_dir: where the journal is kept (created if needed).
        workers: processes that score candidates of a batch at once.
        evaluator: ``strategies -> list of (scenarios, replications)`` outcomes; the model's
            ``Evaluator.map`` by default (tests plant toy problems here).
        progress: ``progress(done, total, best criterion value so far, in the outcome's
            units)`` after each batch.
    """
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = Journal(Path(out_dir) / JOURNAL, digest(spec, problem, space))
    own = None
    if evaluator is None:
        own = Evaluator(problem)

        def evaluator(strategies):
            return own.map(strategies, workers)
    dists = {n: FloatDistribution(0.0, 1.0, step=spec.step) for n in space.names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # spending up to the budget: also minimise the money, so the sampler traces the
        # cost-effect frontier instead of only the best score (which spends it all)
        study = optuna.create_study(directions=["maximize", "minimize"] if spec.spend == "up_to"
                                    else ["maximize"], sampler=_sampler(spec))
    for params in corners(space):
        study.enqueue_trial(params)
    sign = better_sign(spec.outcome)
    run = SearchRun(spec, space, problem)
    seen: dict[tuple, np.ndarray] = {}
    t0 = time.perf_counter()
    try:
        while len(run.trials) < spec.trials:
            k = len(run.trials)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                asked = [study.ask(dists) for _ in range(min(spec.batch, spec.trials - k))]
            params = [{n: float(t.params[n]) for n in space.names} for t in asked]
            values: list[np.ndarray | None] = [None] * len(asked)
            todo = []
            for i, p in enumerate(params):
                key = tuple(p.values())
                if k + i in journal.trials:
                    old, vals = journal.trials[k + i]
                    if old != p:
                        raise ScenarioError(f"{journal.path}: trial {k + i} was {old}, the search "
                                            f"now proposes {p}; is this the same optuna? Use "
                                            f"another --out")
                    values[i] = vals
                    run.from_journal += 1
                elif key in seen:
                    values[i] = seen[key]
                else:
                    todo.append(i)
            news = evaluator([to_strategy(space, params[i], f"{spec.name}_{k + i}") for i in todo])
            for i, vals in zip(todo, news, strict=True):
                values[i] = np.asarray(vals, dtype=float)
                run.scored_now += 1
            for i, p in enumerate(params):
                trial = Trial(k + i, p, values[i])
                seen[tuple(p.values())] = trial.values
                if k + i not in journal.trials:
                    journal.add(trial)
                run.trials.append(trial)
            u = sign * np.stack([t.values for t in run.trials])
            s = scores(u, spec.robustness, spec.percentile)
            for i, t in enumerate(asked):
                score = s[k + i]
                if np.isfinite(score):
                    money = spent(space, params[i])
                    study.tell(t, [float(score), money] if spec.spend == "up_to" else float(score))
                else:
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
            if progress:
                finite = s[np.isfinite(s)]
                best = float(finite.max()) if finite.size else np.nan
                # in the outcome's units: the criterion's value (a regret is a shortfall, >= 0)
                progress(len(run.trials), spec.trials,
                         -best if spec.robustness == "regret" else sign * best)
    finally:
        if own is not None:
            own.close()
    run.elapsed = time.perf_counter() - t0
    return run

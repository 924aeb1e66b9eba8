"""The condition language of scenario discovery: what it reads, what it refuses, with one line."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.analysis.condition import evaluate, parse_condition
from model.base.errors import ScenarioError

OUTCOMES = ["gdp_share_sco", "gdp_share_west", "gdp_share_nonaligned", "sco_members"]
STRATEGIES = ["none", "boost", "odd-name"]


def parse(text, **kw):
    return parse_condition(text, outcomes=OUTCOMES, strategies=STRATEGIES,
                           aliases={"winner": "boost", "reference": "none"},
                           default_outcome=kw.pop("default", "gdp_share_sco"), **kw)


def test_a_threshold_on_a_share_reads_percent_and_fraction_alike():
    frame = pd.DataFrame({"gdp_share_sco": [0.25, 0.30, 0.31, np.nan]})
    for text in ("gdp_share_sco above 30%", "gdp_share_sco > 0.30", "0.3 < gdp_share_sco"):
        cond = parse(text)
        assert not cond.paired
        assert evaluate(cond, frame).tolist() == [False, False, True, False]  # NaN is never true


def test_a_duel_follows_the_outcome_direction_and_names_the_pairs():
    # gdp_share_sco is better lower: 'boost loses to none' where boost's share is higher
    frame = pd.DataFrame({"gdp_share_sco[boost]": [0.30, 0.20, 0.25],
                          "gdp_share_sco[none]": [0.25, 0.25, 0.25],
                          "gdp_share_west[boost]": [0.5, 0.4, 0.6], "gdp_share_west[none]": [0.4, 0.5, 0.6]})
    loses = parse("boost loses to none")
    assert loses.paired and loses.strategies == ["boost", "none"]
    assert evaluate(loses, frame).tolist() == [True, False, False]  # a tie is not a loss
    assert evaluate(parse("winner beats reference"), frame).tolist() == [False, True, False]
    # gdp_share_west is better higher: the direction flips
    assert evaluate(parse("boost loses to none on gdp_share_west"), frame).tolist() == [False, True, False]


def test_and_binds_tighter_than_or_and_not_and_brackets_work():
    frame = pd.DataFrame({"gdp_share_sco": [0.1, 0.5, 0.5, 0.1], "sco_members": [5, 5, 12, 12]})
    a = "gdp_share_sco > 30% and sco_members > 10"
    assert evaluate(parse(f"{a} or sco_members < 6"), frame).tolist() == [True, True, True, False]
    assert evaluate(parse(f"{a} and not (sco_members < 6)"), frame).tolist() == [False, False, True, False]
    assert evaluate(parse("not not sco_members > 10"), frame).tolist() == [False, False, True, True]


def test_differences_of_paired_outcomes_and_quoted_strategy_names():
    frame = pd.DataFrame({"gdp_share_sco[odd-name]": [0.30, 0.26], "gdp_share_sco[none]": [0.25, 0.25]})
    cond = parse("gdp_share_sco['odd-name'] - gdp_share_sco[none] > 2pp")
    assert evaluate(cond, frame).tolist() == [True, False]


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("gdp_share_sco >", "expected a number or an outcome at the end"),
    ("gdp_share_sco", "expected a comparison"),
    ("foo > 1", "unknown outcome"),
    ("gdp_share_sco > 30", "write 30%"),
    ("sco_members > 5%", "shares only"),
    ("gdp_share_sco > sco_members", "mixes shares"),
    ("boost loses to boost", "cannot duel itself at column 1 ('boost')"),
    ("winner loses to boost", "cannot duel itself (winner and boost are both boost)"),
    ("nobody loses to none", "unknown strategy"),
    ("boost loses none", "expected 'to'"),
    ("boost beats none on gdp_share_nonaligned", "no better direction"),
    ("gdp_share_sco[none] > gdp_share_sco", "must name one for every outcome"),
    ("gdp_share_sco[nobody] > 0.3", "unknown strategy"),
    ("__import__('os').system('x') > 1", "unexpected character '.'"),
    ("open > 1", "unknown outcome"),
    ("gdp_share_sco > 0.3; rm -rf /", "unexpected character ';'"),
    ("gdp_share_sco > 0.3 sco_members", "expected 'and', 'or' or the end"),
    ("(gdp_share_sco > 0.3", "expected ')'"),
    ("1 > 0", "names no outcome"),
    ("(" * 30 + "gdp_share_sco > 0.3" + ")" * 30, "nested more than"),
    ("gdp_share_sco > 0.3 and " * 40 + "sco_members > 1", "longer than"),
    ("gdp_share_sco > 1e999", "too large"),
])
def test_bad_conditions_are_refused_with_one_line(text, message):
    with pytest.raises(ScenarioError, match=re.escape(message)) as err:
        parse(text)
    assert "\n" not in str(err.value) and str(err.value).startswith("--when: ")


def test_a_duel_without_an_outcome_needs_a_primary():
    with pytest.raises(ScenarioError, match="on OUTCOME"):
        parse("boost loses to none", default=None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("gdp_share_sco none boost()[]<>=%+-.0123456789'\" andornot;")),
               max_size=60))
def test_any_text_is_parsed_or_refused_with_a_scenario_error(text):
    try:
        cond = parse(text)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
    else:
        cols = {r.column: [0.1, 0.5] for r in cond.refs}
        assert evaluate(cond, pd.DataFrame(cols)).dtype == bool

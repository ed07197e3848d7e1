"""Training runs, fleet capacity, reliability, and the check against published runs."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from gpufleet.model import fleet, formulas, headlines, training
from gpufleet.model.params import defaults
from tests.conftest import copy_project, gpufleet


def test_training_formulas():
    # 1,000,000 GPU-hours x 400 W x PUE 1.08 = 432 MWh.
    assert formulas.training_energy_mwh(1_000_000, 400, 1.08) == pytest.approx(432.0)
    assert formulas.gpu_hours_cost_usd(1_000, 2.5) == pytest.approx(2_500)
    # 1,000 GPU-hours at 1.2 kWh each (facility included): 1.2 MWh.
    assert formulas.gpu_hours_energy_mwh(1_000, 1.2) == pytest.approx(1.2)
    # 9 days of work when a tenth of the time is lost take 10.
    assert formulas.days_with_losses(9.0, 0.1) == pytest.approx(10.0)
    assert formulas.implied_intensity_kgco2e_per_kwh(400, 1_000) == pytest.approx(0.4)
    assert formulas.training_flop(405e9, 15.6e12, 6) == pytest.approx(3.7908e25)
    # 8.64e22 FLOP at 1e18 FLOP/s is one day.
    assert formulas.training_days(8.64e22, 1e18) == pytest.approx(1.0)
    # At 989 TFLOP/s and 40% MFU, 1.424e18 FLOP is one GPU-hour (989e12 x 0.4 x 3,600).
    assert formulas.gpu_hours_for(989e12 * 0.4 * 3600, 989, 0.4) == pytest.approx(1.0)


def test_compute_optimal_model():
    # C = 6 x N x 20 N = 120 N^2: 1.2e22 FLOP gives N = 1e10 parameters.
    assert formulas.compute_optimal_parameters(1.2e22, 20, 6) == pytest.approx(1e10)


def test_reliability_formulas():
    rate = formulas.failure_rate_per_gpu_day(419, 16_384, 54)
    assert rate == pytest.approx(419 / (16_384 * 54))
    assert formulas.interruptions_per_day(rate, 16_384) == pytest.approx(419 / 54)
    # 54 days x 24 h / 419 interruptions = 3.093 hours between interruptions.
    assert formulas.hours_between_interruptions(rate, 16_384) == pytest.approx(54 * 24 / 419)
    # Young: sqrt(2 x 2 x 100) = 20 minutes; loss = 2/20 + (10 + 5)/100 = 25%.
    assert formulas.young_interval_minutes(2, 100) == pytest.approx(20.0)
    assert formulas.lost_time_fraction(20, 2, 5, 100) == pytest.approx(0.25)


def test_a_checkpoint_that_takes_no_time_costs_no_time():
    # A 0-minute write every 20 minutes: only the interruptions cost, (10 + 5) / 100.
    assert formulas.lost_time_fraction(20, 0, 5, 100) == pytest.approx(0.15)
    # Young's interval for a write that takes no time is 0: checkpointing continuously, an
    # interruption costs its restart alone, 5 / 100 (the limit of the formula as the write
    # time and the interval go to 0 together, sqrt(w / 2M) + (sqrt(2wM) / 2 + 5) / M).
    young = formulas.young_interval_minutes(0, 100)
    assert young == 0
    assert formulas.lost_time_fraction(young, 0, 5, 100) == pytest.approx(0.05)
    assert formulas.lost_time_fraction(young, 0, 0, 100) == 0
    # Element-wise on samples, the same.
    writes = np.array([0.0, 2.0])
    lost = formulas.lost_time_fraction(
        formulas.young_interval_minutes(writes, 100.0), writes, 5.0, 100.0
    )
    assert lost == pytest.approx([0.05, 2 / 20 + (10 + 5) / 100])
    # Near a zero write the loss at Young's interval tends to the same limit.
    tiny = 1e-12
    assert formulas.lost_time_fraction(
        formulas.young_interval_minutes(tiny, 100), tiny, 5, 100
    ) == pytest.approx(0.05, abs=1e-6)


def test_young_interval_is_the_minimum():
    best = formulas.young_interval_minutes(1.0, 185.6)
    at_best = formulas.lost_time_fraction(best, 1.0, 15, 185.6)
    for other in (best * 0.5, best * 0.9, best * 1.1, best * 2):
        assert formulas.lost_time_fraction(other, 1.0, 15, 185.6) > at_best


def test_training_run_at_defaults(project):
    run = training.run(defaults(project), project)
    # As the model cards count it: 30.84 M GPU-hours x 700 W x 1.08 = 23,315.04 MWh.
    assert run.card_energy_mwh == pytest.approx(23_315.04)
    assert run.card_emissions_tco2e == pytest.approx(23_315.04 * 0.367)
    # On the fleet's basis: an H100 in its server (1.82), with network and storage (/0.9), in
    # its building (1.08), at the average draw (0.75): 1.274 kWh an hour, 39,290 MWh in all.
    kwh = 0.7 * 1.82 / 0.9 * 1.08 * 0.75
    assert run.fleet_energy_mwh == pytest.approx(30.84e6 * kwh / 1_000)
    assert run.fleet_emissions_tco2e == pytest.approx(30.84e6 * kwh / 1_000 * 0.367)
    hour = fleet.h100_hour(defaults(project), project)
    assert run.owned_cost_usd == pytest.approx(30.84e6 * hour.cost_usd)
    assert run.owned_electricity_usd == pytest.approx(30.84e6 * kwh / 1_000 * 80.6)
    assert run.cloud_cost_usd == pytest.approx(30.84e6 * 2.75)


def test_lost_time_at_defaults_counts_redone_work_once(project):
    # 185.585 minutes between interruptions of a 16,384-GPU job (54 days x 1,440 / 419);
    # a 1-minute write every 20 minutes (5%), and per interruption 10 minutes of redone work
    # plus a 5-minute restart: 15 / 185.585 = 8.08%. About 13.1% in all.
    lost = training.lost_time_fraction(defaults(project), project, 16_384)
    assert lost == pytest.approx(1 / 20 + 15 / (54 * 1_440 / 419))
    assert lost == pytest.approx(0.1308, abs=1e-4)


def test_days_for_llama3_on_the_fleets_h100s(project):
    values = defaults(project)
    days = training.days_for(3.8e25, 350_000, values, project, loss_gpus=16_384)
    lost = 1 / 20 + 15 / (54 * 1_440 / 419)
    assert days == pytest.approx(3.8e25 / (350_000 * 989e12 * 0.41 * 86_400) / (1 - lost))


def test_model_card_reproduced_within_two_percent(project):
    table = training.model_card_check(project, pue=1.08, grid_kgco2e_per_kwh=0.367)
    # The card's total: 11,390 t for 39.3 M GPU-hours at 700 W, 0.4140 kg per kWh at TDP.
    assert table.attrs["implied_kgco2e_per_kwh"] == pytest.approx(11_390 / (39.3e6 * 0.7e-3))
    assert set(table["key"]) == {"llama31_8b", "llama31_70b", "llama31_405b", "llama31_total"}
    assert (table["difference_pct"].abs() < 2).all(), table[["key", "difference_pct"]]
    assert (table["published_market_tco2e"] == 0).all()
    row = table.set_index("key").loc["llama31_405b"]
    assert row["published_tco2e"] == 8_930
    assert row["report_assumptions_tco2e"] == pytest.approx(30.84e6 * 0.7e-3 * 1.08 * 0.367)


def test_published_figures_come_from_data(project):
    assert project.published_runs["llama31_405b"].gpu_hours == 30_840_000
    assert sum(i.count for i in project.interruptions.values()) == project.fact(
        "llama3_interruptions_unexpected"
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A fresh copy run with --only training: the other chapters run too, never having run."""
    root = copy_project(tmp_path_factory.mktemp("training") / "project")
    completed = gpufleet(
        root,
        "run",
        "--only",
        "training",
        "--set",
        "training_gpu_hours=1000000",
        "--set",
        "training_gpu_power_w=400",
        check=True,
    )
    return root, completed


def test_cli_training_run_gives_the_arithmetic(trained):
    root, completed = trained
    assert "also running" in completed.stdout
    found = json.loads(gpufleet(root, "results", "--json", check=True).stdout)
    # 1,000,000 GPU-hours x 400 W x PUE 1.08.
    assert found["training_energy_mwh"]["value"] == pytest.approx(432.0)
    assert found["training_emissions_tco2e"]["value"] == pytest.approx(432.0 * 0.367)
    assert found["training_cloud_cost_usd"]["value"] == pytest.approx(2.75e6)
    # 350,000 H100s x 989 TFLOP/s x 0.41, losing 13.08% of the time as a 16,384-GPU job does.
    lost = 1 / 20 + 15 / (54 * 1_440 / 419)
    assert found["llama3_405b_days_on_fleet"]["value"] == pytest.approx(
        3.8e25 / (350_000 * 989e12 * 0.41 * 86_400) / (1 - lost)
    )
    assert found["fleet_interruptions_per_day"]["value"] == pytest.approx(
        419 / (16_384 * 54) * 350_000
    )


def test_cli_training_rerun_only_runs_training(trained):
    root, _ = trained
    # The other chapters keep the settings of the fixture's run: a mixed run, on purpose.
    completed = gpufleet(
        root, "run", "--only", "training", "--no-build", "--allow-mixed", check=True
    )
    assert "also running" not in completed.stdout
    assert "training: executed" in completed.stdout
    assert "fleet: executed" not in completed.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("training_gpu_hours=-5", "training_gpu_hours: '-5' is out of range"),
        ("mfu=1.5", "mfu: '1.5' is out of range; allowed: a number from 0.01 to 1"),
        ("job_gpus=0", "job_gpus: '0' is out of range; allowed: a whole number of at least 1"),
    ],
)
def test_training_bad_input(site, change, message):
    completed = gpufleet(site, "run", "--only", "training", "--set", change)
    assert completed.returncode == 2
    assert message in completed.stderr


def test_a_job_that_loses_all_its_time_never_finishes():
    assert formulas.days_with_losses(9.0, 0.1) == pytest.approx(10.0)
    assert formulas.days_with_losses(9.0, 1.0) == np.inf
    assert formulas.days_with_losses(9.0, 32.0) == np.inf  # never a negative number of days
    assert list(formulas.days_with_losses(np.array([9.0, 9.0]), np.array([0.1, 1.5]))) == [
        pytest.approx(10.0),
        np.inf,
    ]


def test_the_smallest_job_that_makes_no_progress():
    # 419 interruptions over 54 days on 16,384 GPUs; a 1-minute write every 20 minutes (5%),
    # 15 minutes lost per interruption: the loss reaches 100% at
    # 0.95 x 1,440 / (419 / (16,384 x 54) x 15) = 192,573 GPUs.
    rate = 419 / (16_384 * 54)
    gpus = formulas.stalling_gpus(0.05, 15, rate)
    assert gpus == pytest.approx(0.95 * 1_440 * 16_384 * 54 / (419 * 15))
    minutes = formulas.hours_between_interruptions(rate, gpus) * 60
    assert formulas.lost_time_fraction(20, 1, 5, minutes) == pytest.approx(1.0)
    # When writing checkpoints alone takes all the time, no job makes progress.
    assert formulas.stalling_gpus(1.0, 15, rate) == 0
    assert formulas.stalling_gpus(2.0, 15, rate) == 0


def test_losses_of_a_job(project):
    values = defaults(project)
    job = training.losses(values, project, 16_384)
    minutes = 54 * 1_440 / 419
    assert job.minutes_between == pytest.approx(minutes)
    assert job.writing == pytest.approx(0.05)
    assert job.redo_and_restart == pytest.approx(15.0)
    assert job.failures == pytest.approx(15 / minutes)
    assert job.total == pytest.approx(training.lost_time_fraction(values, project, 16_384))
    assert job.progresses
    assert job.stalls_from == pytest.approx(0.95 * minutes * 16_384 / 15)
    # 2,000,000 GPUs: an interruption every 1.52 minutes, against 15 lost to each.
    big = training.losses(values, project, 2_000_000)
    assert big.minutes_between == pytest.approx(minutes * 16_384 / 2_000_000)
    assert big.total == pytest.approx(0.05 + 15 / (minutes * 16_384 / 2_000_000))
    assert not big.progresses
    # A 6,000-minute restart: no job of 16,384 GPUs gets ahead, one of 100 GPUs does.
    slow = {**values, "restart_minutes": 6_000}
    assert not training.losses(slow, project, 16_384).progresses
    assert training.losses(slow, project, 100).progresses


def test_days_for_a_job_that_makes_no_progress_is_infinite(project):
    values = {**defaults(project), "job_gpus": 2_000_000}
    assert training.days_for(3.8e25, 350_000, values, project, loss_gpus=2_000_000) == np.inf
    found = headlines.compute_all(values, project)
    assert found["llama3_405b_days_on_fleet"] == np.inf
    # Everything else is as at the defaults.
    at_defaults = headlines.compute_all(defaults(project), project)
    assert {k: v for k, v in found.items() if k != "llama3_405b_days_on_fleet"} == {
        k: v for k, v in at_defaults.items() if k != "llama3_405b_days_on_fleet"
    }


@pytest.fixture(scope="module")
def edge_copy(tmp_path_factory):
    """A fresh copy of the project, for runs at values that once crashed the training chapter."""
    return copy_project(tmp_path_factory.mktemp("training-edges") / "project")


def _page_text(root, page="training"):
    """A built page's text as a reader reads it: no tags, one space, straight apostrophes."""
    raw = (root / "_build" / "html" / "book" / f"{page}.html").read_text(encoding="utf-8")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    blocks = re.sub(r"</?(p|div|li|ul|ol|h\d|tr|td|th|br|section|pre)\b[^>]*>", " ", body)
    text = html.unescape(re.sub(r"<[^>]+>", "", blocks))
    return " ".join(text.replace("\u2019", "'").split())


# 54 days x 1,440 minutes / 419 interruptions = 185.585 minutes between interruptions of a
# 16,384-GPU job; a 1-minute write every 20 minutes leaves 95% of the time for interruptions,
# each costing 10 minutes of redone work plus the restart.
MINUTES_16K = 54 * 1_440 / 419


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "sentences"),
    [
        # A write that takes no time: Young's interval is 0, and only restarts cost, 5 minutes
        # every 185.585: 2.69%.
        (
            "checkpoint_write_minutes=0",
            [
                "a checkpoint write that takes no time (an illustration",
                "With a checkpoint that takes no time to write, Young's interval is zero: "
                "checkpointing continuously, the job would lose only its restarts, 2.69% of its "
                "time.",
            ],
        ),
        # 2,000,000 GPUs: an interruption every 185.585 x 16,384 / 2,000,000 = 1.52 minutes,
        # against 15 lost to each; progress only below 0.95 x 185.585 x 16,384 / 15 = 192,573.
        (
            "job_gpus=2000000",
            [
                "working on it as one job at a utilization of 41%, would never finish it: they "
                "are taken to lose time as a job of 2 million GPUs does, and with these "
                "assumptions such a job makes no progress",
                "With an interruption every 1.52 minutes on 2 million GPUs, the job makes no "
                "progress: that is sooner than the 15 minutes a restart and the work redone "
                "since the last checkpoint take. With these assumptions a job makes progress "
                "only on fewer than 193,000 GPUs.",
            ],
        ),
        # A 6,000-minute restart: 6,010 minutes lost to each interruption, one every 185.585
        # minutes on 16,384 GPUs; progress only below 0.95 x 185.585 x 16,384 / 6,010 = 481.
        (
            "restart_minutes=6000",
            [
                "With an interruption every 3.09 hours on 16,384 GPUs, the job makes no "
                "progress: that is sooner than the 6,010 minutes a restart and the work redone "
                "since the last checkpoint take. With these assumptions a job makes progress "
                "only on fewer than 481 GPUs.",
                "would never finish on one 24,576-GPU cluster",
            ],
        ),
    ],
)
def test_values_that_crashed_the_chapter_give_a_page_that_says_what_happens(
    edge_copy, change, sentences
):
    completed = gpufleet(edge_copy, "run", "--set", change)
    # Allowed values: nothing is refused, and the site is built.
    assert completed.returncode == 0, completed.stdout + completed.stderr
    text = _page_text(edge_copy)
    for sentence in sentences:
        assert sentence in text, (sentence, text)
    # No number a reader cannot use: no NaN, infinity, complex or negative count of days.
    for page in ("training", "intro", "uncertainty"):
        shown = _page_text(edge_copy, page)
        assert not re.search(r"\b(nan|inf|Infinity)\b|\dj\b|-\d[\d,.]* days", shown), page
    # The results say the headline has no finite value rather than failing on it.
    listed = gpufleet(edge_copy, "results", check=True).stdout
    days = "llama3_405b_days_on_fleet: "
    if change == "checkpoint_write_minutes=0":
        # 8.08% lost: 15 / 185.585 (no time writing).
        found = json.loads(gpufleet(edge_copy, "results", "--json", check=True).stdout)
        assert found["llama3_405b_days_on_fleet"]["value"] == pytest.approx(
            3.8e25 / (350_000 * 989e12 * 0.41 * 86_400) / (1 - 15 / MINUTES_16K)
        )
    else:
        assert f"{days}no finite value with these assumptions" in " ".join(listed.split())
        found = json.loads(gpufleet(edge_copy, "results", "--json", check=True).stdout)
        assert "llama3_405b_days_on_fleet" not in found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("checkpoint_write_minutes=-1", "checkpoint_write_minutes: '-1' is out of range"),
        ("restart_minutes=6001", "restart_minutes: '6001' is out of range"),
        ("job_gpus=0", "job_gpus: '0' is out of range; allowed: a whole number of at least 1"),
    ],
)
def test_values_outside_the_registry_are_refused_before_anything_runs(edge_copy, change, message):
    completed = gpufleet(edge_copy, "run", "--set", change)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "executed in" not in completed.stdout

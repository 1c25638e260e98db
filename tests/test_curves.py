"""What a validation curve says about its end (``curves``), and the base guard's rule checked on
simulated curves with a known truth: how often it stops a study whose bases had converged, and
how often it catches one still rising."""

import numpy as np
import pytest

from transferlib.records import curves


def test_rise_is_the_last_tenth_minus_the_tenth_before():
    assert curves.rise([0.5] * 40 + [0.6] * 5 + [0.7] * 5) == pytest.approx(0.1)
    assert curves.rise([0.3, 0.4]) == pytest.approx(0.1)
    assert np.isnan(curves.rise([0.3]))


def simulated(rise_points, rng, validations=50, images=1000, accuracy=0.7):
    """A validation curve whose true ``curves.rise`` is ``rise_points`` (a straight trend ending
    at ``accuracy``), each validation drawn from a binomial on ``images`` images."""
    trend = accuracy + rise_points / 100 * (np.arange(validations) + 1 - validations) / (validations // 10)
    return list(rng.binomial(images, np.clip(trend, 0, 1)) / images)


@pytest.mark.parametrize("validations, images", [(50, 1000), (100, 1000), (50, 250)])
def test_a_flat_base_rarely_stops_the_study(validations, images):
    rng = np.random.default_rng(0)
    stops = np.mean([curves.still_rising(simulated(0, rng, validations, images)) for _ in range(2000)])
    assert stops < 0.05, stops  # beyond 2 estimated standard errors, and above 1 point


def test_a_base_rising_3_points_is_caught():
    rng = np.random.default_rng(1)
    caught = np.mean([curves.still_rising(simulated(3, rng)) for _ in range(2000)])
    assert caught > 0.8, caught


def test_the_limit_is_in_points():
    curve = [0.5] * 40 + [0.5 + 0.0005 * i for i in range(10)]  # rises ~0.5 point, smoothly
    assert curves.still_rising(curve, limit=0.25) and not curves.still_rising(curve, limit=1)

"""Many candidates of a reference: after the in-place pass, the whole-screen pass; the
first matching candidate in the reference's order wins, and one that matches nowhere is the
best score of all of them."""

import cv2
import numpy as np

from atp_core.orchestrator import screen_match
from atp_core.orchestrator.runtime import ReferenceSpec
from atp_core.orchestrator.steps import screen


def _scene(marks: dict[tuple[int, int], int]) -> np.ndarray:
    """A 640x480 grey frame with a distinct pattern (by seed) at each position."""
    image = np.full((480, 640, 3), 90, np.uint8)
    for (x, y), seed in marks.items():
        rng = np.random.default_rng(seed)
        image[y : y + 40, x : x + 60] = rng.integers(0, 255, (40, 60, 1), np.uint8)
    return image


def _specs(tmp_path, count: int) -> list[ReferenceSpec]:
    specs = []
    for i in range(count):
        path = tmp_path / f"cand-{i}.png"
        cv2.imwrite(str(path), _scene({(20 + 10 * i, 20): 100 + i}))
        specs.append(ReferenceSpec(path=path, areas=[(20 + 10 * i, 20, 60, 40)], label=f"c{i}"))
    return specs


def test_the_first_candidate_in_order_wins_the_whole_screen_pass(tmp_path):
    specs = _specs(tmp_path, 12)
    # candidates 3 and 9 are on the screen, both away from their own position
    frame = screen_match.Frame(_scene({(400, 300): 103, (200, 380): 109}))
    for _ in range(2):  # the second time from the prepared reference cache
        seen = screen.match_candidates(specs, frame)
        assert seen.matched and seen.label == "c3"
        assert seen.result.areas[0].location == (400, 300)


def test_no_candidate_on_the_screen_reports_the_best_score_of_all(tmp_path):
    specs = _specs(tmp_path, 8)
    frame = screen_match.Frame(_scene({(300, 200): 7}))
    seen = screen.match_candidates(specs, frame)
    assert not seen.matched
    scores = [
        screen_match.compare(s.path, frame, areas=s.areas, threshold=s.threshold).score
        for s in specs
    ]
    assert seen.result.score == max(scores)

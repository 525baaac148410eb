"""The picture's pure parts (#30): a clip's face, motion and shot-change features, the editor
reading them, and clip edges snapped onto a shot boundary in the pause beside them (never into a
word)."""

from cognitive_sensors.pantheon import editor
from omniva.candidates import VideoContext, extract_candidates
from omniva.picture import PictureTrack, snap, span_picture, visual_score
from tests.unit.test_judgement import _speech

TEXTS = [
    "Gravity pulls the heavy bob down toward the floor.",
    "The pendulum can never swing higher than its start.",
    "Why does the wrecking ball never hit the professor?",
    "Because energy is conserved in the swinging ball.",
]


def _track(n: int, cuts=(), faces=None, motion=None) -> PictureTrack:
    return PictureTrack(2.0, tuple(cuts), tuple(faces or [0.0] * n), tuple(motion or [0.0] * n))


def test_span_features_count_faces_motion_and_cuts_but_not_a_cut_as_motion():
    n = 40  # 20 s at 2 samples a second
    faces = [0.3] * 20 + [0.0] * 20  # a close face for 10 s, then none
    motion = [0.05] * n
    motion[20] = 0.6  # the cut's own change
    track = _track(n, cuts=(10.0,), faces=faces, motion=motion)
    face_part = span_picture(track, 0.0, 9.0)
    assert face_part["face_share"] == 1.0 and face_part["face_size"] == 0.3
    assert face_part["shot_cuts"] == 0 and "edge_cut_s" not in face_part
    across = span_picture(track, 5.0, 15.0)
    assert across["shot_cuts"] == 1 and across["face_share"] == 0.5
    assert across["motion"] < 0.1  # the cut's 0.6 is not counted as motion
    flash = span_picture(track, 9.7, 19.0)  # opens 0.3 s before a cut: a flash of the last shot
    assert flash["edge_cut_s"] == 0.3
    assert visual_score(flash) < visual_score(span_picture(track, 10.0, 19.0))
    assert face_part["visual"] > span_picture(track, 11.0, 19.0)["visual"]  # a face beats none


def test_still_pictures_say_nothing():
    assert _track(10).is_still
    assert not _track(10, cuts=(2.0,)).is_still
    assert not _track(10, faces=[0.2] * 10).is_still


def test_snap_picks_the_boundary_nearest_the_edge_inside_the_window():
    assert snap((1.0, 4.9, 5.3, 9.0), 4.5, 5.5, 5.2) == 5.3
    assert snap((1.0, 9.0), 4.5, 5.5, 5.0) is None


def test_candidates_open_and_close_on_a_shot_change_in_the_pause_only():
    words, sentences = _speech(TEXTS)
    gap_before_2 = (sentences[1].end + sentences[2].start) / 2  # in the pause before sentence 2
    inside_word = words[sentences[3].first_word + 2].start + 0.1  # in the middle of sentence 3
    end = sentences[-1].end + 1.0
    n = int(end * 2) + 1
    track = _track(
        n, cuts=(round(gap_before_2, 3), round(inside_word, 3)), faces=[0.2] * n, motion=[0.03] * n
    )
    found = extract_candidates("v", sentences, words, [], [], end, context=VideoContext(picture=track))
    opening = [c for c in found if c.features["first_sentence"] == 2]
    assert opening and all(c.start_time == round(gap_before_2, 3) for c in opening)
    assert all(c.features["start_on_cut"] == round(gap_before_2, 3) for c in opening)
    # the cut inside sentence 3 moves no edge; the clip that spans it counts it
    spanning = next(
        c for c in found if c.features["first_sentence"] == 2 and c.features["last_sentence"] == 3
    )
    assert spanning.features["shot_cuts"] == 1
    assert all(c.start_time <= sentences[c.features["first_sentence"]].start for c in found)
    assert all(c.end_time >= sentences[c.features["last_sentence"]].end for c in found)
    vote = editor(spanning)
    assert "picture: face in shot 100%" in vote.reason and "cut on a shot change" in vote.reason


def test_without_a_picture_nothing_changes():
    words, sentences = _speech(TEXTS)
    end = sentences[-1].end + 1.0
    plain = extract_candidates("v", sentences, words, [], [], end)
    still = extract_candidates("v", sentences, words, [], [], end, context=VideoContext(picture=_track(30)))
    assert [(c.start_time, c.end_time, c.score) for c in plain] == [
        (c.start_time, c.end_time, c.score) for c in still
    ]
    assert all("visual" not in c.features for c in plain)
    assert "picture" not in editor(plain[0]).reason

"""A project's settings and copy templates (#29): the checks, the precedence, the filling."""

import pytest

from omniva import project_settings as ps
from omniva import templates


def test_validate_names_every_bad_field_and_normalises_the_good():
    with pytest.raises(ps.SettingsError) as err:
        ps.validate(
            {"daily_clips": 0, "slot_times": ["9:00"], "time_zone": "Nowhere/City", "review": "maybe",
             "goal_topics": {"Bad Name!": ["x"]}, "title_template": "{{nope}}", "colour": 1}
        )  # fmt: skip
    assert {f for f, _ in err.value.problems} == {
        "daily_clips", "slot_times", "time_zone", "review", "goal_topics", "title_template", "colour",
    }  # fmt: skip
    assert ps.validate(
        {"slot_times": ["12:00", "09:00", "12:00"], "daily_clips": 3.0, "banned_words": [" a ", "a"]}
    ) == {
        "slot_times": ["09:00", "12:00"],
        "daily_clips": 3,
        "banned_words": ["a"],
    }
    with pytest.raises(ps.SettingsError, match="clip_min_s"):
        ps.validate({"clip_min_s": 30, "clip_max_s": 20})
    with pytest.raises(ps.SettingsError, match="daily_clips"):
        ps.validate({"daily_clips": True})  # not a number, even though bool is an int
    assert ps.validate({"daily_clips": None}) == {"daily_clips": None}  # back to the deployment's


def test_in_force_prefers_project_then_environment_then_goals_then_default():
    goals = {"daily_quota": 5, "topics": {"education": ("a",)}, "banned_words": ()}
    rows = {
        r.name: r
        for r in ps.in_force({"time_zone": "Asia/Tokyo"}, {"OMNIVA_DAILY_QUOTA": "7"}, goals, "g.yaml")
    }
    assert (rows["time_zone"].value, rows["time_zone"].source) == ("Asia/Tokyo", "project")
    assert (rows["daily_clips"].value, rows["daily_clips"].source, rows["daily_clips"].where) == (
        7, "environment", "OMNIVA_DAILY_QUOTA",
    )  # fmt: skip
    assert (rows["goal_topics"].value, rows["goal_topics"].source) == ({"education": ["a"]}, "goals")
    assert (rows["banned_words"].value, rows["banned_words"].source) == ([], "default")
    rows = {r.name: r for r in ps.in_force({}, {"OMNIVA_DAILY_QUOTA": "many"}, goals)}
    assert (rows["daily_clips"].value, rows["daily_clips"].source) == (5, "goals")  # a bad variable
    assert ps.changed({"a": 1, "daily_clips": 5}, {"daily_clips": 2}) == {
        "daily_clips": {"before": 5, "after": 2}
    }


def test_templates_check_fill_and_close_up_empty_values():
    assert templates.check("{{title}} | {{ creator }}") == ["title", "creator"]
    with pytest.raises(templates.TemplateError, match=r"\{\{author\}\}"):
        templates.check("{{title}} by {{author}}")
    with pytest.raises(templates.TemplateError, match="not a variable"):
        templates.check("{{title} and {{")
    chorus = templates.Copy("Gravity in one minute #Shorts", "What Lewin shows.", ("physics", "shorts"))
    values = templates.values_of(
        chorus, {"creator": "lewin", "keyphrases": ["falling objects", "energy"], "licence": ""}
    )
    assert values["hashtags"] == "#FallingObjects #Energy" and values["tags"] == "physics, shorts"
    out = templates.render_copy(
        {
            "title_template": "{{title}} | {{creator}} {{licence}}",
            "description_template": "{{description}}\n\n\n\nLicence: {{licence}}\n{{hashtags}}",
            "tags_template": "{{keyphrases}}, {{creator}}, , {{licence}}, energy",
        },
        values,
        chorus,
    )
    assert out.title == "Gravity in one minute #Shorts | lewin"
    assert out.description == "What Lewin shows.\n\nLicence:\n#FallingObjects #Energy"
    assert out.tags == ("falling objects", "energy", "lewin")
    assert templates.render_copy({}, values, chorus) == chorus  # no template: Chorus's copy


def test_a_project_layout_sits_between_the_creator_and_the_render_setting():
    from omniva import layout

    assert layout.choose_layout("auto", "auto", None, "reframe").forced_by == "project setting"
    picked = layout.choose_layout("audiogram", "auto", None, "reframe")
    assert picked.layout == "reframe" and "project setting" in picked.reason
    assert layout.choose_layout("auto", "audiogram", None, "reframe").layout == "audiogram"  # the creator's
    assert layout.choose_layout("auto", "auto", None, "auto").layout == "audiogram"  # no picture: measured
    with pytest.raises(ps.SettingsError, match="render_layout"):
        ps.validate({"render_layout": "sideways"})

"""The project registry (``projects.json``): one owner per creator, safe channel names, and a
file written atomically under its lock, readable by its owner only."""

import json
import multiprocessing
import stat
from pathlib import Path

import pytest

from omniva.errors import ConfigError
from omniva.settings import Layout
from omniva_resources import creators, project_file, projects
from omniva_resources.project_file import CreatorOwnedError


@pytest.fixture
def lay(tmp_path) -> Layout:
    lay = Layout(tmp_path)
    projects.add_project("alpha", "alpha-shorts", lay=lay)
    projects.add_project("beta", "beta-shorts", lay=lay)
    creators.add(lay, "sample", "https://example.org/sample.xml", project="alpha")
    return lay


def test_a_creator_belongs_to_one_project_and_another_cannot_take_it(lay):
    before = project_file.path(lay).read_bytes()
    with pytest.raises(CreatorOwnedError, match="belongs to project 'alpha'") as caught:
        projects.add_creator("beta", "sample", lay)
    assert caught.value.owner == "alpha"
    assert project_file.path(lay).read_bytes() == before  # nothing written on refusal
    projects.add_project("gamma", "gamma-shorts", lay=lay)
    with pytest.raises(CreatorOwnedError):
        projects.add_creator("gamma", "sample", lay)
    assert projects.project_of("sample", lay).name == "alpha"
    assert projects.channels_by_creator(lay, "default") == {"sample": "alpha-shorts"}
    # Once alpha lets it go (the admin's `omniva projects remove-creator`), another may take it.
    projects.remove_creator("alpha", "sample", lay)
    assert projects.project_of("sample", lay) is None
    assert projects.add_creator("beta", "sample", lay).creators == ("sample",)

    assert projects.channels_by_creator(lay, "default") == {"sample": "beta-shorts"}


def test_an_older_file_listing_a_creator_twice_gives_it_to_the_oldest_project(tmp_path):
    """Before ownership a later project (first by name) could attach a creator and take its channel."""
    lay = Layout(tmp_path)
    project_file.path(lay).write_text(
        json.dumps(
            {
                "alpha": {
                    "channel": "alpha-shorts",
                    "creators": ["sample"],
                    "created_at": "2026-01-01T00:00:00Z",
                },
                "aaa": {
                    "channel": "thief",
                    "creators": ["sample", "own"],
                    "created_at": "2026-02-01T00:00:00Z",
                },
            }
        )
    )
    assert projects.channels_by_creator(lay, "default") == {"sample": "alpha-shorts", "own": "thief"}
    assert projects.project_of("sample", lay).name == "alpha"
    assert projects.get_project("aaa", lay).creators == ("own",)
    assert projects.goals_for("sample", lay) is not None


def test_a_channel_name_is_a_file_name_not_a_path(tmp_path):
    lay = Layout(tmp_path)
    for bad in ("../../etc/passwd", "a/b", ".hidden", "x" * 65, "name with space"):
        with pytest.raises(ConfigError, match="channel name"):
            projects.add_project("p", bad, lay=lay)
    assert not project_file.path(lay).exists()
    assert projects.add_project("p", " omniva-demo.v2 ", lay=lay).channel == "omniva-demo.v2"


def test_the_file_is_owner_only_and_leaves_no_temporary_files(lay):
    assert stat.S_IMODE(project_file.path(lay).stat().st_mode) == 0o600
    assert sorted(p.name for p in lay.home.iterdir() if "projects" in p.name) == [
        ".projects.json.lock",
        "projects.json",
    ]


def _add_many(home: str, worker: int) -> None:
    for i in range(15):
        projects.add_project(f"p{worker}-{i}", "ch", lay=Layout(Path(home)))


def test_concurrent_writers_lose_no_project(tmp_path):
    """Each write is a read-modify-write: without the lock, writers overwrite each other."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_add_many, args=(str(tmp_path), w)) for w in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(projects.list_projects(Layout(tmp_path))) == 6 * 15


def test_registering_another_projects_creator_changes_nothing(lay):
    """`omniva creators add sample URL --project beta` must not rewrite alpha's creator first."""
    before = lay.creators_file.read_bytes()
    with pytest.raises(CreatorOwnedError):
        creators.add(lay, "sample", "https://attacker.example/feed.xml", project="beta")
    assert lay.creators_file.read_bytes() == before


def test_start_and_stop_change_one_projects_automation_only(lay):
    """#26: a project is served by the sensors only once started; switching one leaves the
    others as they were, and updating a project keeps its state."""
    creators.add(lay, "other", "https://example.org/other.xml", project="beta")
    creators.add(lay, "free", "https://example.org/free.xml")  # no project: never skipped
    assert projects.get_project("alpha", lay).automation is None
    assert projects.stopped_creators(lay) == {"sample": "alpha", "other": "beta"}
    assert projects.set_automation("beta", True, reason="go", lay=lay).automation == "on"
    assert projects.get_project("alpha", lay).automation is None
    assert projects.stopped_creators(lay) == {"sample": "alpha"}
    projects.set_automation("alpha", True, lay=lay)
    projects.set_automation("beta", False, lay=lay)
    assert projects.get_project("alpha", lay).automation == "on"
    assert projects.stopped_creators(lay) == {"other": "beta"}
    projects.add_project("alpha", "alpha-shorts", description="updated", lay=lay)
    assert projects.get_project("alpha", lay).automation == "on"
    with pytest.raises(ConfigError, match="no project named 'nope'"):
        projects.set_automation("nope", True, lay=lay)


def test_projects_start_and_stop_from_the_cli(lay, monkeypatch, capsys):
    from omniva_app.cli import main

    monkeypatch.setenv("OMNIVA_HOME", str(lay.home))
    assert main(["projects", "start", "beta"]) == 0
    assert "automation on" in capsys.readouterr().out
    assert main(["projects", "list"]) == 0
    listed = capsys.readouterr().out
    assert "beta\t" in listed and "automation on" in listed and "automation off" in listed
    assert main(["projects", "stop", "beta"]) == 0
    assert projects.get_project("beta", lay).automation == "off"

"""The benchmark's 22 deploy postconditions, the same checks as bench/specs/deploy.spec.ts and
bench/serverspec/spec/deploy_spec.rb: one test per check, run on every --hosts host."""
import json
import os
import re

import pytest

with open(os.environ["BENCH_FLEET"]) as fleet_file:
    FLEET = json.load(fleet_file)


@pytest.fixture
def v(host):
    """Fleet-wide vars merged with this host's (appRoot, statusPort), by ssh_config host name."""
    return {**FLEET["vars"], **FLEET["hosts"][host.backend.get_hostname()]}


def test_current_is_symlink(host, v):
    assert host.file(f"{v['appRoot']}/current").is_symlink


def test_current_links_into_releases(host, v):
    target = host.check_output("readlink -- %s", f"{v['appRoot']}/current")
    assert target.startswith(f"{v['appRoot']}/releases/")


def test_current_resolves_to_a_directory(host, v):
    assert host.file(f"{v['appRoot']}/current").is_directory


def test_revision_is_a_file(host, v):
    assert host.file(f"{v['appRoot']}/current/REVISION").is_file


def test_revision_looks_like_a_commit(host, v):
    assert re.fullmatch(r"[0-9a-f]{7,40}\n", host.file(f"{v['appRoot']}/current/REVISION").content_string)


def test_revision_is_the_deployed_revision(host, v):
    assert host.file(f"{v['appRoot']}/current/REVISION").content_string == f"{v['revision']}\n"


def test_revision_has_mode_0644(host, v):
    assert host.file(f"{v['appRoot']}/current/REVISION").mode == 0o644


def test_revision_is_owned_by_root(host, v):
    assert host.file(f"{v['appRoot']}/current/REVISION").user == "root"


def test_releases_is_a_directory(host, v):
    assert host.file(f"{v['appRoot']}/releases").is_directory


def test_releases_has_mode_0755(host, v):
    assert host.file(f"{v['appRoot']}/releases").mode == 0o755


def test_keeps_between_1_and_5_releases(host, v):
    assert 1 <= len(host.file(f"{v['appRoot']}/releases").listdir()) <= 5


def test_previous_release_is_intact(host, v):
    assert host.file(f"{v['appRoot']}/releases/{v['previousRelease']}/REVISION").is_file


def test_shared_log_is_a_directory(host, v):
    assert host.file(f"{v['appRoot']}/shared/log").is_directory


def test_shared_log_is_owned_by_root(host, v):
    assert host.file(f"{v['appRoot']}/shared/log").user == "root"


def test_release_has_public(host, v):
    assert host.file(f"{v['appRoot']}/current/public").is_directory


def test_app_root_belongs_to_group_root(host, v):
    assert host.file(v["appRoot"]).group == "root"


def test_blog_app_is_running(host):
    assert host.process.filter(comm="blog-app")


def test_status_port_is_listening(host, v):
    assert host.socket(f"tcp://127.0.0.1:{v['statusPort']}").is_listening


def test_answers_its_health_check(host, v):
    body = host.check_output(f"curl -fsS http://127.0.0.1:{int(v['statusPort'])}/health")
    assert json.loads(body)["status"] == "ok"


def test_was_restarted(host, v):
    page = host.check_output(f"curl -fsS 'http://127.0.0.1:{int(v['statusPort'])}/server-status?auto'")
    assert int(re.search(r"^Total Accesses: (\d+)$", page, re.M).group(1)) < 10


def test_bash_is_installed(host):
    assert host.package("bash").is_installed


def test_user_www_data_exists(host):
    assert host.user("www-data").exists

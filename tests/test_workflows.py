"""The delivery pipeline's promises (README, "Security"), checked in the workflow files.

Each test states one promise. They parse `.github/workflows/*.yml`, run zizmor offline, check
the lock files against pyproject.toml, and run the two scripts the workflows call
(`.github/scripts/`) against real git repositories and real `compile` output.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import ROOT

GITHUB = ROOT / ".github"
WORKFLOW_FILES = sorted((GITHUB / "workflows").glob("*.yml"))
SCRIPTS = GITHUB / "scripts"
REQUIREMENTS = ROOT / "requirements"

Job = dict[str, Any]
Step = dict[str, Any]


def load(path: Path) -> dict[str, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in workflow:  # YAML 1.1 reads the key `on` as a boolean
        workflow["on"] = workflow.pop(True)
    return workflow


WORKFLOWS = {path.name: load(path) for path in WORKFLOW_FILES}


def triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def jobs(workflow: dict[str, Any]) -> Iterator[tuple[str, Job]]:
    yield from workflow["jobs"].items()


def steps(job: Job) -> list[Step]:
    return list(job.get("steps", []))


def uses(step: Step) -> str:
    return str(step.get("uses", ""))


def run(job: Job) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def checkouts(job: Job) -> list[Step]:
    return [step for step in steps(job) if uses(step).startswith("actions/checkout@")]


def folder(step: Step) -> str:
    return os.path.normpath(str(step.get("with", {}).get("path", ".")))


def checks_out_pull_request(workflow: dict[str, Any], checkout: Step) -> bool:
    """The pull request's code: its head (or merge) ref, or pull_request's default checkout."""
    ref = str(checkout.get("with", {}).get("ref", ""))
    if re.search(r"pull_request\.head|refs/pull/|head_ref|merge_commit_sha", ref):
        return True
    return not ref and "pull_request" in triggers(workflow)


def holds_secrets(job: Job) -> bool:
    text = json.dumps(job)
    return "environment" in job or bool(re.search(r"secrets\.(?!GITHUB_TOKEN\b)", text))


def writes(job: Job) -> bool:
    permissions = job.get("permissions", {})
    return permissions == "write-all" or "write" in dict(permissions).values()


def by_name(workflow: str, job: str) -> Job:
    found: Job = WORKFLOWS[workflow]["jobs"][job]
    return found


def step_using(job: Job, action: str) -> list[Step]:
    return [step for step in steps(job) if uses(step).startswith(f"actions/{action}@")]


def each_workflow() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("name", sorted(WORKFLOWS))


# --- every workflow -----------------------------------------------------------------------


def test_the_workflows_are_there() -> None:
    assert {"apply.yml", "drift.yml", "pull-request.yml", "review.yml", "test-send.yml"} <= set(
        WORKFLOWS
    )


@each_workflow()
def test_no_permission_at_the_top_and_each_job_asks_for_its_own(name: str) -> None:
    workflow = WORKFLOWS[name]
    assert workflow["permissions"] == {}, "permissions: {} at the top"
    for job_id, job in jobs(workflow):
        assert "permissions" in job, f"job {job_id} declares its permissions"


@each_workflow()
def test_every_action_is_pinned_by_commit(name: str) -> None:
    text = (GITHUB / "workflows" / name).read_text(encoding="utf-8")
    for _, job in jobs(WORKFLOWS[name]):
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses(step)), uses(step)
    for line in text.splitlines():
        if re.match(r"\s*(- )?uses:", line):
            assert re.search(r"@[0-9a-f]{40}\s+# v\d", line), f"version comment: {line.strip()}"


@each_workflow()
def test_no_expression_is_interpolated_into_a_script(name: str) -> None:
    """Event fields and inputs reach scripts through env, never pasted into the shell text."""
    for job_id, job in jobs(WORKFLOWS[name]):
        assert "${{" not in run(job), f"{name}: job {job_id}"


@each_workflow()
def test_secrets_live_in_environments_and_reach_only_the_step_that_needs_them(name: str) -> None:
    """Environment secrets, deployable from main only, so no branch can read them; and in a
    job, only the step that uses them has them."""
    workflow = WORKFLOWS[name]
    assert "secrets." not in json.dumps(workflow.get("env", {}))
    for job_id, job in jobs(workflow):
        text = json.dumps(job)
        if "secrets." not in text:
            continue
        assert "environment" in job, f"{name}: job {job_id} reads secrets outside an environment"
        assert "secrets." not in json.dumps(job.get("env", {})), f"{name}: job-level env"
        for step in steps(job):
            outside_env = {key: value for key, value in step.items() if key != "env"}
            assert "secrets." not in json.dumps(outside_env), f"{name}: {step.get('name')}"


@each_workflow()
def test_no_secret_in_a_job_that_runs_pull_request_code(name: str) -> None:
    """A job that checks the pull request out where it runs (the workspace root) holds no
    secret, no environment and no write permission."""
    workflow = WORKFLOWS[name]
    for job_id, job in jobs(workflow):
        pr_code = [c for c in checkouts(job) if checks_out_pull_request(workflow, c)]
        if any(folder(c) == "." for c in pr_code):
            assert not holds_secrets(job), f"{name}: job {job_id}"
            assert not writes(job), f"{name}: job {job_id}"
    if "pull_request" in triggers(workflow):
        assert "secrets." not in json.dumps(workflow), f"{name} runs pull requests' code"


RUNS_FROM_A_FOLDER = re.compile(
    r"(?m)(?:^|[;&|(`]|\bthen\b|\bdo\b)\s*"
    r"(?:\./|bash\s|sh\s|source\s|\.\s|make\b|pytest\b|npm\b|npx\b|tox\b|nox\b|pre-commit\b|pip3?\b)"
)


def pull_request_target_jobs() -> Iterator[tuple[str, str, Job]]:
    for name, workflow in sorted(WORKFLOWS.items()):
        if "pull_request_target" in triggers(workflow):
            for job_id, job in jobs(workflow):
                yield name, job_id, job


def test_pull_request_target_runs_the_base_branchs_tool_over_the_pull_requests_data() -> None:
    """Where a pull request's run holds secrets or write tokens (pull_request_target), the pull
    request is checked out into a folder of its own and only read: the tool is installed from
    the base branch's checkout, python runs only the base branch's scripts, nothing is run
    or installed from the pull request's folder, and python never imports from the current
    folder."""
    checked = 0
    for name, job_id, job in pull_request_target_jobs():
        where = f"{name}: job {job_id}"
        assert WORKFLOWS[name]["env"]["PYTHONSAFEPATH"] == "1", name
        workflow = WORKFLOWS[name]
        data = {folder(c) for c in checkouts(job) if checks_out_pull_request(workflow, c)}
        tool = {folder(c) for c in checkouts(job) if not checks_out_pull_request(workflow, c)}
        assert "." not in data | tool, f"{where}: each checkout in a folder of its own"
        assert not data & tool, where
        for checkout in checkouts(job):
            assert checkout["with"]["persist-credentials"] is False, where
            if checkout["with"].get("allow-unsafe-pr-checkout"):
                assert folder(checkout) in data, f"{where}: only the data folder"
        for step in steps(job):
            assert not uses(step).startswith("./"), f"{where}: no local action"
            script = str(step.get("run", ""))
            workdir = os.path.normpath(str(step.get("working-directory", ".")))
            if "pip install" in script:
                assert workdir in tool, f"{where}: pip installs from the tool's checkout"
                assert not any(re.search(rf"\b{re.escape(d)}\b", script) for d in data), where
                assert not re.search(r"\s-e\s", script), where
                continue
            assert not RUNS_FROM_A_FOLDER.search(script), f"{where}: {script}"
            for argument in re.findall(r"\bpython3?\s+(\S+)", script):
                path = os.path.normpath(os.path.join(workdir, argument))
                assert path.split(os.sep)[0] in tool, f"{where}: python runs {argument}"
        checked += 1
    assert checked >= 6  # review: plan-live, plan-offline, diff, comment; test-send: 3 jobs


def test_pull_request_target_is_used_only_where_the_review_above_holds() -> None:
    """zizmor's dangerous-triggers finding is ignored exactly on these two workflows, because
    the test above checks that they never run the pull request's code."""
    ignores = set()
    for path in [*GITHUB.rglob("*.yml"), *GITHUB.rglob("*.yaml")]:
        for rule in re.findall(r"zizmor: ignore\[([\w-]+)\]", path.read_text(encoding="utf-8")):
            ignores.add((path.name, rule))
    targets = {
        name for name, workflow in WORKFLOWS.items() if "pull_request_target" in triggers(workflow)
    }
    assert targets == {"review.yml", "test-send.yml"}
    assert ignores == {(name, "dangerous-triggers") for name in targets}
    assert not any("workflow_run" in triggers(w) for w in WORKFLOWS.values())


@each_workflow()
def test_concurrency_on_every_workflow_that_sends_or_writes(name: str) -> None:
    workflow = WORKFLOWS[name]
    if any(holds_secrets(job) or writes(job) for _, job in jobs(workflow)):
        assert workflow["concurrency"]["group"], name


def zizmor() -> str:
    found = shutil.which("zizmor", path=sysconfig.get_path("scripts")) or shutil.which("zizmor")
    assert found, "zizmor is in the test extra: pip install -e '.[test]'"
    return found


def zizmor_findings(*options: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [zizmor(), "--offline", "--format", "json", *options, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_zizmor_finds_nothing_of_medium_severity_or_more() -> None:
    findings = zizmor_findings("--min-severity", "medium")
    assert [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings] == []


def test_zizmor_ignores_hide_nothing_but_the_reviewed_triggers() -> None:
    findings = zizmor_findings("--min-severity", "medium", "--no-ignores")
    assert sorted(
        (f["ident"], f["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"])
        for f in findings
    ) == [
        ("dangerous-triggers", "./.github/workflows/review.yml"),
        ("dangerous-triggers", "./.github/workflows/test-send.yml"),
    ]


# --- apply: plan, review, apply the sealed plan --------------------------------------------


def test_apply_applies_exactly_the_plan_the_reviewer_saw() -> None:
    plan, apply = by_name("apply.yml", "plan"), by_name("apply.yml", "apply")
    assert plan["environment"] == "dns-plan"
    assert plan["permissions"] == {"contents": "read"}
    assert "ametrika-gitops plan --out plan.json" in run(plan)
    assert "--detailed-exitcode" in run(plan)
    assert "$GITHUB_STEP_SUMMARY" in run(plan)
    (upload,) = step_using(plan, "upload-artifact")
    assert upload["with"]["path"] == "plan.json"

    assert apply["needs"] in ("plan", ["plan"])
    assert apply["environment"] == "dns-production"
    assert "needs.plan.outputs.changes" in apply["if"]
    (download,) = step_using(apply, "download-artifact")
    assert download["with"]["name"] == upload["with"]["name"]
    folder_ = download["with"]["path"].replace("${{ runner.temp }}", "$RUNNER_TEMP")
    script = run(apply)
    assert "ametrika-gitops plan" not in script, "the apply job never plans afresh"
    assert re.search(
        rf'ametrika-gitops apply "{re.escape(folder_)}/plan.json" --auto-approve', script
    )
    assert "--expect-commit" in script and "commits/main" in script
    assert "sha256sum --check" in script
    assert "needs.plan.outputs.sha256" in json.dumps(apply)
    assert plan["outputs"]["sha256"] == "${{ steps.plan.outputs.sha256 }}"


def test_deletions_come_through_the_front_door() -> None:
    workflow = WORKFLOWS["apply.yml"]
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["on"]["workflow_dispatch"]["inputs"]["allow_delete"]["type"] == "string"
    (step,) = [s for s in steps(by_name("apply.yml", "plan")) if s.get("id") == "plan"]
    assert step["env"]["ALLOW_DELETE"] == "${{ inputs.allow_delete }}"
    assert step["env"]["BEFORE"] == "${{ github.event.before }}"
    assert 'allow_delete.py "${deleted[@]}" --accounts "$ALLOW_DELETE" --' in step["run"]
    assert '--deleted-between "$BEFORE" "$GITHUB_SHA"' in step["run"]


# --- pull requests ------------------------------------------------------------------------


def test_pull_requests_get_the_live_plan_and_forks_the_offline_one() -> None:
    live, offline = by_name("review.yml", "plan-live"), by_name("review.yml", "plan-offline")
    assert live["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert offline["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
    assert live["environment"] == "dns-plan" and live["permissions"] == {"contents": "read"}
    assert "environment" not in offline and "secrets." not in json.dumps(offline)
    assert "--offline" in run(offline) and "comes from a fork" in run(offline)
    assert "--offline" not in run(live) and "--deleted-between" in run(live)
    comment = by_name("review.yml", "comment")
    assert comment["permissions"] == {"pull-requests": "write"}
    assert not holds_secrets(comment) and not checkouts(comment)


def test_test_send_secrets_reach_one_job_after_the_gate() -> None:
    workflow = WORKFLOWS["test-send.yml"]
    assert set(workflow["on"]) == {"pull_request_target", "push"}
    assert "labeled" in workflow["on"]["pull_request_target"]["types"]
    with_secrets = [job_id for job_id, job in jobs(workflow) if holds_secrets(job)]
    assert with_secrets == ["send"]
    send = by_name("test-send.yml", "send")
    assert send["needs"] == "gate" and send["if"] == "needs.gate.outputs.decision == 'send'"
    assert send["environment"] == "test-sends" and send["permissions"] == {"contents": "read"}
    assert "ametrika-gitops test-send --changed-since" in run(send)
    assert "send_gate.py" in run(by_name("test-send.yml", "gate"))
    report = by_name("test-send.yml", "report")
    assert report["permissions"] == {"statuses": "write"} and "context=test-send" in run(report)
    assert "defer/*" in run(report)


# --- drift ----------------------------------------------------------------------------------


def test_a_daily_check_keeps_one_issue_open_while_something_drifted_or_fails() -> None:
    workflow = WORKFLOWS["drift.yml"]
    assert workflow["on"]["schedule"][0]["cron"]
    check, issue = by_name("drift.yml", "check"), by_name("drift.yml", "issue")
    assert check["environment"] == "dns-plan" and check["permissions"] == {"contents": "read"}
    assert "ametrika-gitops plan --detailed-exitcode" in run(check)
    assert "ametrika-gitops verify" in run(check)
    assert issue["permissions"] == {"issues": "write"} and not holds_secrets(issue)
    script = run(issue)
    assert "labels=dns-drift&state=open" in script  # find the open one before opening one
    assert "state=closed" in script and "labels[]=dns-drift" in script
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_schedules_exist() -> None:
    assert any("schedule" in triggers(workflow) for workflow in WORKFLOWS.values())


# --- supply chain ---------------------------------------------------------------------------


def test_dependabot_watches_the_actions_and_the_python_dependencies() -> None:
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    assert all(u["schedule"]["interval"] for u in ecosystems.values())


INSTALL_LOCKED = [
    "python3 -m pip install --require-hashes -r requirements/build.txt",
    "python3 -m pip install --require-hashes --no-build-isolation -r requirements/ci.txt",
]


@each_workflow()
def test_workflows_install_exactly_the_locked_dependencies(name: str) -> None:
    for job_id, job in jobs(WORKFLOWS[name]):
        for step in steps(job):
            lines = [
                line.strip()
                for line in str(step.get("run", "")).splitlines()
                if "pip install" in line
            ]
            if lines:
                assert lines[:2] == INSTALL_LOCKED, f"{name}: job {job_id}"
                assert re.fullmatch(
                    r"python3 -m pip install --no-deps --no-build-isolation "
                    r"(-e )?\.",
                    lines[2],
                ), f"{name}: job {job_id}"
                assert len(lines) == 3


def test_ci_installs_the_lock_and_runs_zizmor_then_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script[-1] == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' "
        "&& python3 -m pytest"
    )
    assert script[-1] in readme
    assert INSTALL_LOCKED[0] in script and INSTALL_LOCKED[1] in script
    assert "zizmor --offline --min-severity medium ." in script
    assert "ruff check . && ruff format --check ." in script
    assert "mypy ametrika_gitops tests" in script


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        elif line:
            lines.append(line)
    return lines


def key(requirement: str) -> tuple[str, str]:
    parsed = Requirement(requirement)
    return canonicalize_name(parsed.name), str(parsed.specifier)


def pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) of a pip-compile --generate-hashes output."""
    found: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if match := re.match(r"([A-Za-z0-9._-]+)==(\S+)\s+(.*)", line):
            hashes = re.findall(r"--hash=(sha256:[0-9a-f]{64})", match[3])
            found[canonicalize_name(match[1])] = (match[2], hashes)
    return found


def test_the_lock_pins_what_pyproject_asks_for_with_hashes() -> None:
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        *pyproject["project"]["dependencies"],
        *pyproject["project"]["optional-dependencies"]["test"],
        *pyproject["build-system"]["requires"],
    ]
    listed = requirement_lines(REQUIREMENTS / "ci.in")
    assert sorted(map(key, listed)) == sorted(map(key, wanted)), "ci.in = pyproject.toml"
    locked = pins(REQUIREMENTS / "ci.txt")
    assert all(hashes for _, hashes in locked.values()), "every pin has its hashes"
    for requirement in map(Requirement, listed):
        version, _ = locked[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), requirement
    assert pins(REQUIREMENTS / "build.txt")["setuptools"] == locked["setuptools"]


# --- pre-commit -----------------------------------------------------------------------------


def test_the_hook_runs_on_accounts_overrides_templates_and_the_catalogue() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    files = re.compile(hook["files"])
    for path in (
        "accounts/acme.yaml",
        "overrides/acme/insights.fr.html.j2",
        "templates/catalog.yaml",
        "templates/fr/footer.txt.j2",
        "templates/layout.html.j2",
        "schemas/account.schema.json",
    ):
        assert files.search(path), path
    for path in ("README.md", "ametrika_gitops/cli.py", "tests/cases/valid/x.yaml"):
        assert not files.search(path), path
    assert hook["pass_filenames"] is False  # a template change can break any account


def test_the_readme_shows_a_local_hook_with_the_same_files() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)]
    local = [
        b
        for b in blocks
        if isinstance(b, dict) and any(r.get("repo") == "local" for r in b.get("repos", []))
    ]
    assert local, "README: a `repo: local` pre-commit configuration"
    (hook,) = local[0]["repos"][0]["hooks"]
    (published,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["files"] == published["files"]
    assert hook["entry"] == published["entry"]
    assert hook["pass_filenames"] is False


# --- the scripts the workflows call ---------------------------------------------------------


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def git(repo: Path, *args: str) -> str:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Alice",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice",
        GIT_COMMITTER_EMAIL="alice@example.com",
    )
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


SHOW_ARGV = [sys.executable, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))"]
HOSTILE = [
    "$(touch pwned).yaml",
    "a;touch pwned.yaml",
    "new\nline.yaml",
    "-rf.yaml",
    "UPPER.yaml",
    "xy.yaml",
]


def test_allow_delete_reads_deleted_account_files_as_data(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "accounts" / "sub").mkdir(parents=True)
    for name in ["acme.yaml", "globex.yml", "old-name.yaml", "kept.yaml", *HOSTILE]:
        (repo / "accounts" / name).write_text("version: 1\n", encoding="utf-8")
    (repo / "accounts" / "sub" / "nested.yaml").write_text("x\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "accounts")
    base = git(repo, "rev-parse", "HEAD")
    for name in ["acme.yaml", "globex.yml", *HOSTILE]:
        git(repo, "rm", "-q", f"accounts/{name}")
    git(repo, "rm", "-q", "accounts/sub/nested.yaml")
    git(repo, "mv", "accounts/old-name.yaml", "accounts/new-name.yaml")
    git(repo, "commit", "-qm", "remove and rename")
    head = git(repo, "rev-parse", "HEAD")

    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "allow_delete.py"),
            "--deleted-between",
            base,
            head,
            "--accounts",
            "umbrella  initech",
            "--",
            *SHOW_ARGV,
            "plan",
            "--out",
            "plan.json",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(result.stdout) == [
        "plan",
        "--out",
        "plan.json",
        "--allow-delete",
        "acme",
        "--allow-delete",
        "globex",
        "--allow-delete",
        "initech",
        "--allow-delete",
        "old-name",
        "--allow-delete",
        "umbrella",
        "--allow-delete",
        "xy",
    ]
    assert not list(tmp_path.rglob("pwned*"))
    assert "'accounts/new\\nline.yaml' is not an account file" in result.stderr


def test_allow_delete_refuses_an_invalid_dispatch_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "allow_delete.py"),
            "--accounts",
            "acme $(id) ../x",
            "--",
            *SHOW_ARGV,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "not account ids: '$(id)', '../x'" in result.stderr


def test_allow_delete_allows_nothing_when_the_commit_before_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x", encoding="utf-8")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-qm", "first")
    allow_delete = script("allow_delete")
    monkeypatch.chdir(tmp_path)
    assert allow_delete.deleted_accounts("0" * 40, "HEAD") == []  # the first push
    assert allow_delete.deleted_accounts("1" * 40, "HEAD") == []  # after a force-push
    with pytest.raises(allow_delete.Refused):
        allow_delete.deleted_accounts("--output=x", "HEAD")


GATE_CASES = [
    # (event, action, label, role, fork, changed) → decision
    ("push", "", "", "", False, [], "send"),
    ("pull_request_target", "opened", "", "", False, ["accounts/acme.yaml"], "send"),
    ("pull_request_target", "opened", "", "", False, ["README.md", "templates/fr/x.j2"], "send"),
    ("pull_request_target", "opened", "", "", False, ["README.md"], "none"),
    ("pull_request_target", "opened", "", "", True, ["accounts/acme.yaml"], "defer"),
    (
        "pull_request_target",
        "opened",
        "",
        "",
        False,
        ["accounts/acme.yaml", "ametrika_gitops/mail/smtp.py"],
        "defer",
    ),
    (
        "pull_request_target",
        "synchronize",
        "",
        "",
        False,
        ["accounts/acme.yaml", ".github/workflows/test-send.yml"],
        "defer",
    ),
    (
        "pull_request_target",
        "opened",
        "",
        "",
        False,
        ["accounts/a.yaml", "requirements/ci.txt"],
        "defer",
    ),
    ("pull_request_target", "labeled", "bug", "admin", False, ["accounts/acme.yaml"], "ignore"),
    (
        "pull_request_target",
        "labeled",
        "test-send-approved",
        "write",
        False,
        ["accounts/acme.yaml"],
        "ignore",
    ),
    (
        "pull_request_target",
        "labeled",
        "test-send-approved",
        "maintain",
        True,
        ["accounts/acme.yaml", "ametrika_gitops/cli.py"],
        "send",
    ),
]


@pytest.mark.parametrize(
    ("event", "action", "label", "role", "fork", "changed", "expected"), GATE_CASES
)
def test_gate(
    event: str, action: str, label: str, role: str, fork: bool, changed: list[str], expected: str
) -> None:
    gate = script("send_gate")
    decision = gate.decide(
        event=event,
        action=action,
        label=label,
        labeller_role=role,
        fork=fork,
        changed=changed,
        symlinks=[],
        new_destinations=list,
    )
    assert decision.action == expected, decision.reason


def test_gate_refuses_symbolic_links_and_defers_new_smtp_destinations() -> None:
    gate = script("send_gate")
    common = {
        "event": "pull_request_target",
        "action": "opened",
        "label": "",
        "labeller_role": "",
        "fork": False,
        "changed": ["accounts/acme.yaml"],
    }
    linked = gate.decide(**common, symlinks=["templates/fr/footer.txt.j2"], new_destinations=list)
    assert linked.action == "fail"
    new = gate.Destination("acme", "evil.example", 465, "ssl-tls", "u", "GLOBEX_SMTP_PASSWORD")
    moved = gate.decide(**common, symlinks=[], new_destinations=lambda: [new])
    assert moved.action == "defer"
    assert "GLOBEX_SMTP_PASSWORD to u@evil.example:465" in moved.reason


def copy_of_the_repository(to: Path) -> Path:
    for part in ("accounts", "overrides", "templates", "schemas"):
        shutil.copytree(ROOT / part, to / part)
    return to


def test_gate_finds_where_smtp_passwords_would_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real `compile`: a changed server, or another account's password variable,
    is a destination the base branch does not have."""
    installed = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    monkeypatch.setenv("PATH", os.pathsep.join([*installed, os.environ.get("PATH", "")]))
    gate = script("send_gate")
    base = copy_of_the_repository(tmp_path / "base")
    head = copy_of_the_repository(tmp_path / "head")
    assert gate.new_destinations(base, head) == []

    globex = head / "accounts" / "globex.yaml"
    original = globex.read_text(encoding="utf-8")
    globex.write_text(
        original.replace("smtp.globex.example.com", "smtp.attacker.example"), encoding="utf-8"
    )
    (new,) = gate.new_destinations(base, head)
    assert (new.account, new.host, new.password_env) == (
        "globex",
        "smtp.attacker.example",
        "GLOBEX_SMTP_PASSWORD",
    )

    globex.write_text(original, encoding="utf-8")
    (head / "accounts" / "borrower.yaml").write_text(
        original.replace("id: globex", "id: borrower"), encoding="utf-8"
    )
    (new,) = gate.new_destinations(base, head)
    assert (new.account, new.host, new.password_env) == (
        "borrower",
        "smtp.globex.example.com",
        "GLOBEX_SMTP_PASSWORD",
    )


def test_gate_reads_changed_paths_and_symbolic_links_from_git(tmp_path: Path) -> None:
    gate = script("send_gate")
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "a.yaml").write_text("x\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    base = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "accounts" / "a.yaml").rename(tmp_path / "accounts" / "b.yaml")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "footer.txt.j2").symlink_to("/proc/self/environ")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "two")
    assert sorted(gate.changed_paths(tmp_path, base)) == [
        "accounts/a.yaml",
        "accounts/b.yaml",
        "templates/footer.txt.j2",
    ]
    assert gate.symlinks(tmp_path) == ["templates/footer.txt.j2"]

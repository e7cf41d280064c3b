"""Production: task specs per project type, simulated tasks and status events, dependencies, milestones."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from orchestration.sample.money import AS_OF, CUTOFF, fmt_ts, parse_date
from orchestration.sample.reference import PEOPLE, PEOPLE_BY_ID, PROJECTS, TEAMS, Project


@dataclass(frozen=True)
class TaskSpec:
    name: str
    department: str
    start: date
    due: date
    estimate: int
    depends: tuple[int, ...] = ()  # indices of earlier tasks of the same project
    priority: int | None = None
    omitted: bool = False
    pace: float | None = None  # actual / planned duration; None draws one


# name, department, start and due as fractions of the project's span, estimate hours, depends, priority
_Template = tuple[str, str, float, float, int, tuple[int, ...], int | None]
COMMERCIAL_TASKS: tuple[_Template, ...] = (
    ("Treatment & bid approval", "PROD", 0.00, 0.06, 12, (), 1),
    ("Script breakdown & schedule", "PROD", 0.04, 0.12, 16, (), None),
    ("Casting", "PROD", 0.10, 0.25, 24, (), None),
    ("Location scout & permits", "PROD", 0.10, 0.28, 30, (), None),
    ("Crew & kit booking", "PROD", 0.18, 0.30, 12, (), None),
    ("Shoot", "PROD", 0.32, 0.42, 80, (2, 3), 1),
    ("Dailies & media management", "POST", 0.33, 0.45, 20, (), None),
    ("Offline edit", "POST", 0.44, 0.62, 70, (5,), None),
    ("Client review & revisions", "PROD", 0.62, 0.70, 10, (), None),
    ("Picture lock", "POST", 0.70, 0.73, 6, (7,), 1),
    ("Colour grade", "POST", 0.73, 0.84, 30, (9,), None),
    ("VFX & clean-up", "POST", 0.73, 0.88, 45, (9,), None),
    ("Sound design & mix", "AUDIO", 0.76, 0.90, 24, (), None),
    ("Deliverables & QC", "POST", 0.90, 0.98, 14, (10, 11), 1),
)
MUSIC_VIDEO_TASKS: tuple[_Template, ...] = (
    ("Treatment & artist approval", "PROD", 0.00, 0.10, 10, (), 1),
    ("Casting dancers", "PROD", 0.08, 0.25, 16, (), None),
    ("Location & set build", "PROD", 0.10, 0.30, 30, (), None),
    ("Shoot", "PROD", 0.32, 0.40, 40, (1, 2), 1),
    ("Offline edit", "POST", 0.40, 0.60, 40, (3,), None),
    ("VFX & beauty work", "POST", 0.55, 0.80, 45, (4,), None),
    ("Colour grade", "POST", 0.75, 0.88, 16, (4,), None),
    ("Artist & label review", "PROD", 0.80, 0.90, 4, (), None),
    ("Final delivery", "POST", 0.90, 0.98, 8, (5,), 1),
)
PHOTO_TASKS: tuple[_Template, ...] = (
    ("Moodboard & shot list", "PHOTO", 0.00, 0.12, 12, (), None),
    ("Model casting", "PHOTO", 0.08, 0.30, 16, (), None),
    ("Studio & location booking", "PHOTO", 0.10, 0.30, 6, (), None),
    ("Styling & props", "PHOTO", 0.20, 0.40, 20, (), None),
    ("Shoot day 1", "PHOTO", 0.40, 0.43, 10, (1, 3), 1),
    ("Shoot day 2", "PHOTO", 0.44, 0.47, 10, (4,), 1),
    ("Selects & client picks", "PHOTO", 0.48, 0.58, 8, (), None),
    ("Retouching", "POST", 0.58, 0.85, 60, (6,), None),
    ("Client review", "PHOTO", 0.85, 0.92, 4, (), None),
    ("Final delivery", "PHOTO", 0.92, 0.99, 6, (), 1),
)
DOCUMENTARY_TASKS: tuple[_Template, ...] = (
    ("Research & story development", "PROD", 0.00, 0.10, 80, (), 1),
    ("Access & releases", "PROD", 0.03, 0.15, 30, (), None),
    ("Broadcaster deck", "PROD", 0.05, 0.12, 20, (), None),
    ("Research trip", "PROD", 0.08, 0.12, 40, (), None),
    ("Shoot block 1 - Astoria", "PROD", 0.12, 0.18, 90, (3,), 1),
    ("Shoot block 2 - Ketchikan", "PROD", 0.22, 0.28, 90, (4,), 1),
    ("Shoot block 3 - Port Townsend", "PROD", 0.32, 0.38, 90, (), 1),
    ("Shoot block 4 - Sitka", "PROD", 0.42, 0.48, 90, (), 1),
    ("Pickups", "PROD", 0.55, 0.60, 60, (), None),
    ("Transcription & logging", "POST", 0.15, 0.55, 60, (), None),
    ("Archive research", "POST", 0.20, 0.50, 50, (), None),
    ("Assembly edit", "POST", 0.50, 0.62, 160, (7,), None),
    ("Rough cut", "POST", 0.62, 0.72, 120, (11,), 1),
    ("Broadcaster notes", "PROD", 0.72, 0.75, 6, (), None),
    ("Fine cut", "POST", 0.75, 0.84, 100, (12, 13), 1),
    ("Archive licensing clearance", "PROD", 0.60, 0.86, 24, (10,), None),
    ("Original score", "AUDIO", 0.70, 0.88, 60, (), None),
    ("Colour grade", "POST", 0.85, 0.92, 40, (14,), None),
    ("Sound mix", "AUDIO", 0.86, 0.94, 50, (14,), None),
    ("Graphics & titles", "POST", 0.80, 0.92, 30, (), None),
    ("Festival deliverables", "POST", 0.93, 0.99, 20, (), None),
    ("Broadcaster delivery QC", "POST", 0.95, 1.00, 12, (), 1),
)
TEMPLATES = {
    "commercial": COMMERCIAL_TASKS,
    "music_video": MUSIC_VIDEO_TASKS,
    "photo": PHOTO_TASKS,
    "documentary": DOCUMENTARY_TASKS,
}


def _templated_specs(project: Project, template: tuple[_Template, ...]) -> list[TaskSpec]:
    span = (project.end - project.start).days
    specs = []
    for name, dept, lo, hi, estimate, depends, priority in template:
        start = project.start + timedelta(days=round(span * lo))
        due = max(start, project.start + timedelta(days=round(span * hi)))
        specs.append(TaskSpec(name, dept, start, due, estimate, depends, priority))
    if project.code == "MV-2502":  # planned, then dropped by the label
        specs.append(
            TaskSpec("Social cut-downs", "POST", project.end - timedelta(days=10), project.end, 12, omitted=True)
        )
    return specs


def _episodic_specs() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    for n in range(8):
        ep, shoot, base = f"Ep{101 + n}", date(2026, 2, 2) + timedelta(days=28 * n), len(specs)

        def day(k: int, shoot: date = shoot) -> date:
            return shoot + timedelta(days=k)

        specs += [
            TaskSpec(f"{ep} prep & scripts", "PROD", day(-21), day(-1), 60),
            TaskSpec(f"{ep} shoot", "PROD", shoot, day(23), 200, (), 1),
            TaskSpec(f"{ep} offline edit", "POST", day(24), day(51), 120, (base + 1,)),
            # episode 106's VFX runs long and holds up its online (an open blocker at the as-of date)
            TaskSpec(f"{ep} VFX shots", "POST", day(30), day(72), 90, pace=2.6 if n == 5 else None),
            TaskSpec(f"{ep} online, colour & mix", "POST", day(73), day(86), 60, (base + 2, base + 3), 1),
        ]
    return specs


def _podcast_specs(project: Project) -> list[TaskSpec]:
    specs = []
    for n in range(7):
        record = project.start + timedelta(days=14 + 48 * n)
        specs.append(TaskSpec(f"S2E{n + 1:02d} record", "AUDIO", record, record + timedelta(days=2), 10, (), 2))
        specs.append(
            TaskSpec(f"S2E{n + 1:02d} edit & mix", "AUDIO", record + timedelta(days=3), record + timedelta(days=16), 24)
        )
    return specs


OVERHEAD_SPECS = (
    TaskSpec("Insurance renewal 2025-26", "OPS", parse_date("2025-02-03"), parse_date("2025-02-28"), 16, (), 1),
    TaskSpec("Studio network upgrade", "OPS", parse_date("2025-06-02"), parse_date("2025-07-18"), 40),
    TaskSpec("FY2025 year-end close", "OPS", parse_date("2026-01-05"), parse_date("2026-01-30"), 60, (), 1),
    TaskSpec("Insurance renewal 2026-27", "OPS", parse_date("2026-02-02"), parse_date("2026-02-27"), 16, (), 1),
    TaskSpec("FY2027 budget planning", "OPS", parse_date("2026-09-14"), parse_date("2026-11-20"), 50),
    TaskSpec("Fire safety inspection", "OPS", parse_date("2026-10-19"), parse_date("2026-10-23"), 6, (), 3),
)


def task_specs(project: Project) -> list[TaskSpec]:
    if project.project_type in TEMPLATES:
        return _templated_specs(project, TEMPLATES[project.project_type])
    if project.project_type == "episodic":
        return _episodic_specs()
    if project.project_type == "podcast":
        return _podcast_specs(project)
    if project.project_type == "overhead":
        return list(OVERHEAD_SPECS)
    return []  # nothing scheduled while bidding


@dataclass
class Task:
    task_id: str
    project: Project
    spec: TaskSpec
    owner: str | None
    priority: int
    created_at: datetime
    events: list[tuple[str, datetime]] = field(default_factory=list)
    finished: date | None = None  # done on or before the as-of date


# (name, fraction of the project span or ISO date, delay in days or None to draw one)
MILESTONES: dict[str, tuple[tuple[str, float | str, int | None], ...]] = {
    "CM-2501": (("Contract signed", 0.0, 0), ("Shoot wrap", 0.42, None), ("Final delivery", 0.98, None)),
    "MV-2502": (("Treatment approved", 0.10, None), ("Shoot wrap", 0.40, None), ("Final delivery", 0.98, None)),
    "PH-2503": (("Shoot complete", 0.47, None), ("Final selects delivered", 0.99, 0)),
    "DOC-2504": (
        ("Principal photography wrap", 0.60, None),
        ("Picture lock", 0.84, None),
        ("Broadcaster delivery", 1.0, 0),
    ),
    "EP-2601": (
        ("Scripts locked", "2026-01-23", 5),
        ("Block 1 wrap (eps 101-104)", "2026-05-20", 6),
        ("Principal photography wrap", "2026-09-09", 9),
        ("Eps 101-104 delivered", "2026-08-31", 12),
        ("Season delivery", "2027-03-31", None),
    ),
    "CM-2602": (("Contract signed", 0.0, 0), ("Shoot wrap", "2026-10-09", 2), ("Final delivery", 0.98, None)),
    "CM-2603": (
        ("Contract signed", 0.0, 1),
        ("Shoot wrap", "2026-09-11", 0),
        ("Picture lock", "2026-10-23", None),
        ("Final delivery", 0.98, None),
    ),
    "POD-2604": (
        ("Season launch", "2026-02-03", 0),
        ("Mid-season sponsor review", "2026-06-30", 3),
        ("Season finale", "2026-12-15", None),
    ),
    "OVH-STUDIO": (
        ("FY2025 books closed", "2026-01-30", 4),
        ("Insurance renewed 2026-27", "2026-03-02", 0),
        ("FY2027 budget approved", "2026-11-20", None),
    ),
    "BC-2701": (("Award decision", "2026-11-02", None),),
}


def build_tasks(rng: random.Random) -> list[Task]:
    """Every project's tasks with their status history up to the as-of date."""
    tasks: list[Task] = []
    for project in PROJECTS:
        finished: list[date | None] = []
        for spec in task_specs(project):
            task = _new_task(rng, project, spec, len(tasks) + 1)
            _simulate(rng, task, [finished[j] for j in spec.depends])
            finished.append(task.finished)
            tasks.append(task)
    return tasks


# Planted owners (after the owner is drawn, so that nothing else in the sample moves): Marcus Bell (staff, post) also
# takes Ep107's online while he grades and cleans up CM-2603, so the as-of week holds more open estimate than his
# 40 hours; nobody has yet taken the fire safety inspection (a task without an owner).
OWNER_OVERRIDES: dict[tuple[str, str], str | None] = {
    ("EP-2601", "Ep107 online, colour & mix"): "P010",
    ("OVH-STUDIO", "Fire safety inspection"): None,
}


def _new_task(rng: random.Random, project: Project, spec: TaskSpec, number: int) -> Task:
    team = [
        p for ids in TEAMS.get(project.code, {}).values() for p in ids if PEOPLE_BY_ID[p].department == spec.department
    ]
    owners = team or [p.person_id for p in PEOPLE if p.department == spec.department]
    created = spec.start - timedelta(days=rng.randint(3, 21))
    created = max(project.start, min(created, AS_OF - timedelta(days=rng.randint(1, 20))))
    priority = spec.priority or rng.choices((1, 2, 3, 4), (10, 40, 35, 15))[0]
    created_at = datetime.combine(created, time(8, rng.randint(0, 59)))
    owner = rng.choice(owners)
    owner = OWNER_OVERRIDES.get((project.code, spec.name), owner)
    return Task(f"TSK-{number:04d}", project, spec, owner, priority, created_at)


def _simulate(rng: random.Random, task: Task, dependencies: list[date | None]) -> None:
    """Status history up to the as-of date: todo -> in_progress -> review (-> retake ...) -> done."""
    spec, project = task.spec, task.project
    task.events = [("todo", task.created_at)]
    started = datetime.combine(spec.start, time(10, rng.randint(0, 59)))
    if spec.omitted:
        if spec.start <= AS_OF:
            task.events.append(("omitted", started))
        return
    if any(d is None for d in dependencies):  # waiting on unfinished work
        if spec.start <= AS_OF:
            task.events.append(("blocked", started))
        return
    ready = max([spec.start] + [d + timedelta(days=1) for d in dependencies if d is not None])
    if ready > AS_OF:
        return
    if ready > spec.start:
        task.events.append(("blocked", started))
    retake_odds = 0.35 if project.code == "EP-2601" else 0.12
    retakes = (2 if rng.random() < 0.2 else 1) if rng.random() < retake_odds else 0
    stalled = rng.random() < 0.07
    steps = ["in_progress"] + (["blocked", "in_progress"] if stalled else []) + ["review"]
    steps += ["retake", "in_progress", "review"] * retakes + ["done"]
    pace = spec.pace or rng.uniform(0.75, 1.35)
    days = max(1, round((spec.due - spec.start).days * pace)) + 3 * retakes + (3 if stalled else 0)
    if project.status in ("closed", "wrapped"):  # a finished project's work ended by its end date
        days = max(0, min(days, (project.end - ready).days))
    # spread the steps over the working days from ready to end, each within office hours
    for i, status in enumerate(steps):
        day = ready + timedelta(days=round(days * i / (len(steps) - 1)))
        minute = 5 + rng.randint(0, 40) if i == 0 else 60 + rng.randint(0, 420)
        stamp = max(
            datetime.combine(day, time(9)) + timedelta(minutes=minute), task.events[-1][1] + timedelta(minutes=20)
        )
        if stamp > CUTOFF:
            break
        task.events.append((status, stamp))
    if task.events[-1][0] == "done":
        task.finished = task.events[-1][1].date()


def task_rows(tasks: list[Task]) -> list[dict[str, str]]:
    return [
        {
            "task_id": t.task_id,
            "project_code": t.project.code,
            "department_code": t.spec.department,
            "task_name": t.spec.name,
            "owner_person_id": t.owner or "",
            "priority": str(t.priority),
            "estimate_hours": str(t.spec.estimate),
            "start_date": t.spec.start.isoformat(),
            "due_date": t.spec.due.isoformat(),
            "created_at": fmt_ts(t.created_at),
        }
        for t in tasks
    ]


def task_event_rows(tasks: list[Task]) -> list[dict[str, str]]:
    return [
        {"task_id": t.task_id, "status": status, "changed_at": fmt_ts(at)} for t in tasks for status, at in t.events
    ]


def task_dependency_rows(tasks: list[Task]) -> list[dict[str, str]]:
    rows = []
    for project in PROJECTS:
        of_project = [t for t in tasks if t.project is project]
        for task in of_project:
            for j in task.spec.depends:
                rows.append({"task_id": task.task_id, "depends_on_task_id": of_project[j].task_id})
    return rows


def milestone_rows(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for project in PROJECTS:
        span = (project.end - project.start).days
        for name, when, delay in MILESTONES.get(project.code, ()):
            planned = parse_date(when) if isinstance(when, str) else project.start + timedelta(days=round(span * when))
            if delay is None:
                delay = rng.choice((-2, 0, 0, 1, 3, 5, 8))
            actual = planned + timedelta(days=delay)
            if project.status in ("closed", "wrapped"):
                actual = min(actual, project.end)
            rows.append(
                {
                    "project_code": project.code,
                    "milestone": name,
                    "planned_date": planned.isoformat(),
                    "actual_date": actual.isoformat() if planned <= AS_OF and actual <= AS_OF else "",
                }
            )
    return rows

"""Hand-written variance commentary that tells the planted scenarios' story."""

from __future__ import annotations

from orchestration.sample.reference import email_of

# period, project, account, root_cause, persistence, explanation, corrective_action, author, written_at
COMMENTARY = (
    (
        "2025-03",
        "OVH-STUDIO",
        "6300",
        "timing",
        "one_time",
        "Annual insurance premium paid in full in March; the budget is phased evenly over the year.",
        "none",
        "P020",
        "2025-04-08T10:15:00",
    ),
    (
        "2025-03",
        "CM-2501",
        "5300",
        "scope",
        "one_time",
        "Client added a location day (CO-001 approved); permits covered by a transfer from contingency.",
        "none",
        "P002",
        "2025-04-09T09:30:00",
    ),
    (
        "2025-08",
        "DOC-2504",
        "5310",
        "volume",
        "one_time",
        "Second research trip to Ketchikan and Sitka before the shoot blocks.",
        "budget_transfer",
        "P001",
        "2025-09-05T14:00:00",
    ),
    (
        "2026-02",
        "DOC-2504",
        "5200",
        "scope",
        "structural",
        "Second half shot on the studio-owned FX6 kit instead of rented Alexa packages; camera rental will "
        "finish well under budget.",
        "budget_transfer",
        "P001",
        "2026-03-10T11:45:00",
    ),
    (
        "2026-03",
        "OVH-STUDIO",
        "6300",
        "timing",
        "one_time",
        "2026-27 insurance renewal paid in March as every year.",
        "none",
        "P020",
        "2026-04-07T16:20:00",
    ),
    (
        "2026-05",
        "EP-2601",
        "5100",
        "volume",
        "structural",
        "Episodes 103-104 each needed an extra shoot day and overtime on night exteriors; reforecast V2 raises "
        "crew from July.",
        "reforecast",
        "P002",
        "2026-06-09T10:00:00",
    ),
    (
        "2026-08",
        "EP-2601",
        "5100",
        "volume",
        "structural",
        "Overtime still above the reforecast: night shoots for episodes 107-108 and retakes on 106.",
        "spending_adjustment",
        "P002",
        "2026-09-08T09:15:00",
    ),
    (
        "2026-08",
        "EP-2601",
        "5110",
        "price",
        "temporary",
        "Day-player rates rose with the crew agreement renewal; covered in part by a transfer from contingency.",
        "budget_transfer",
        "P001",
        "2026-09-08T09:40:00",
    ),
    (
        "2026-09",
        "CM-2603",
        "5310",
        "price",
        "temporary",
        "Hotel rates during London Fashion Week were above the bid.",
        "spending_adjustment",
        "P008",
        "2026-10-05T13:10:00",
    ),
    (
        "2026-09",
        "CM-2602",
        "5510",
        "scope",
        "one_time",
        "Client asked for a licensed track that was not in the bid; transfer from contingency requested.",
        "budget_transfer",
        "P002",
        "2026-10-07T08:50:00",
    ),
)


def commentary_rows() -> list[dict[str, str]]:
    return [
        {
            "period": when,
            "project_code": code,
            "account_code": account,
            "root_cause": cause,
            "persistence": persistence,
            "explanation": text,
            "corrective_action": action,
            "author": email_of(author),
            "written_at": written,
        }
        for when, code, account, cause, persistence, text, action, author, written in COMMENTARY
    ]

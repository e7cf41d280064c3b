"""Deterministic sample landing data for a fictional production house, Northlight Pictures.

`python -m orchestration.sample [OUT_DIR]` writes one landing file per source of the contract
(SPEC §4, `orchestration.lib.contract`) and an `AS_OF` file (the sample's as-of date, 2026-10-15)
to `seeds/sample_studio/`. The output depends only on the seed: `random.Random(seed)` is the
only source of randomness and no clock is read, so the committed sample can be regenerated
byte for byte.

The studio: 5 departments, 10 projects (3 closed, 1 wrapped, 5 active, 1 bidding; one shot in
London and budgeted in GBP), 18 accounts covering every cost category, 20 people, and ledger
activity from 2025-01-01 to the as-of date. Every actual is derived from the project's current
budget times a spend factor and reaches the files through the channel a studio really sees it
in: labour as timesheets, shoot crew as payroll-service invoices, kit as equipment rentals,
vendors as invoices (many against purchase orders), card spend, revenue and overhead straight
in the ledger. The ledger posts each timesheet entry, rental and paid invoice as one line whose
`source_ref` names it (amount = its cost), so posted + accrued never counts a cost twice; what
is not yet posted at the as-of date (recent timesheets, running rentals, unpaid invoices) is
the accrued "hot cost".

Planted scenarios (what the marts, alerts and reports should find):

1. Crew overrun: EP-2601 (The Night Desk S1, episodic, active) runs its crew accounts
   (5100 labour, 5110 day players) about 20% above the current V2-reforecast budget to date
   (extra shoot days, overtime at double time, retakes), although the Q2 2026 reforecast
   already raised crew; a change order for the extra days is only proposed.
2. Equipment underspend: DOC-2504 (Saltwater Towns, wrapped) spends about a third less than
   budgeted on equipment (5200/5210/5220): the second half was shot on studio-owned kit.
3. Unbudgeted spend: CM-2602 (Meridian Air) buys a music licence (5510) that has no budget
   line in any version; the transfer from contingency to cover it is requested, not approved.
4. Lumpy annual insurance: OVH-STUDIO pays insurance (6300) once a year, every March, as one
   ledger line of about 60,000, against a budget line phased evenly over the project.
5. Foreign currency: CM-2603 (Kestrel Motors, London) is budgeted and mostly spent in GBP,
   with one EUR lens rental and USD staff timesheets; fx_rates has USD, GBP and EUR monthly.
6. Reversing entries: a duplicated invoice posting and an expense posted to the wrong project
   are each reversed by a negative line naming the line it reverses (the expense is re-posted
   to the right project).
7. Revenue: client billing tranches and approved change-order billing posted as positive
   amounts on the revenue accounts.
8. Hot costs on EP-2601 at the as-of date (fixed records, `hot_costs.py`): crew overtime in the
   last week that payroll has not posted, a camera rental extended past its booking with a damage
   charge (only the booked days posted), an invoice 7.5% above its closed PO (within the 10%
   tolerance: a warning), an open PO part invoiced, an approved change order beside a proposed
   and a rejected one, and the accountant's estimate to complete on the crew line.

Also present: original and reforecast budget versions side by side (and one draft bid),
monthly-phased and unphased budget lines, approved/proposed/rejected change orders, approved
and pending budget transfers, open and closed purchase orders, variance commentary, tasks owned by
staff and freelancers with retakes (loops of two rounds among them), blocked work and dependencies (episode
106's online waits on its late VFX), one task nobody owns, one overloaded person in the as-of week (Marcus
Bell, post: CM-2603's picture lock, grade and VFX with Ep107's online), and milestones that are late, on
time or still ahead.
"""

from orchestration.sample.writer import DEFAULT_OUT_DIR, generate, main

__all__ = ["DEFAULT_OUT_DIR", "generate", "main"]

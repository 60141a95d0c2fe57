"""The planner agent's batch work against the real database (outputs captured instead of sent)."""

from __future__ import annotations

import asyncio
import json
import time as time_module
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import pytest

from events.validation import check
from streams import plans
from streams.delivery import Message
from streams.fieldplan import PlannerConfig
from streams.planner import PlannerAgent
from streams.retry import Backoff
from streams.stages import Origin

pytestmark = pytest.mark.integration

OSLO = ZoneInfo("Europe/Oslo")
DAY = date(2030, 12, 2)  # a Monday, far from real data
NOW = datetime.combine(DAY, time(7, 0), OSLO)
BODO = {"lon": 14.405, "lat": 67.28}
PLACES = [{"lon": 14.39, "lat": 67.29}, {"lon": 14.45, "lat": 67.27}, {"lon": 14.55, "lat": 67.25},
          {"lon": 14.60, "lat": 67.30}, {"lon": 14.36, "lat": 67.26}]


class Team:
    """A fresh team with its cases in the ledger's case state; everything removed afterwards."""

    def __init__(self, database_url: str) -> None:
        self.url, self.id = database_url, f"team-{uuid.uuid4().hex[:10]}"
        self.cases: list[str] = []
        self.workers = [f"{self.id}-w1", f"{self.id}-w2"]

    def case(self, where: dict, *, young=False, complex_needs=False, protected="none", kind="home") -> str:
        case_id = f"{self.id}-c{len(self.cases)}"
        self.cases.append(case_id)
        profile = {"person_ref": "psn-abcdefghjkmn", "protected_address": protected, "services": ["guidance"],
                   "priority_markers": {"young_under_30": young, "immigrant": False, "complex_needs": complex_needs},
                   "language_needs": {"language": "nb", "interpreter_needed": False}}
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO streams_case_state (case_id, status, profile, locations, events_seen, audit_seq, "
                        "last_event_id, last_event_at) VALUES (%s, 'open', %s, %s, 1, 1, %s, now())",
                        (case_id, json.dumps(profile), json.dumps([{"kind": kind, "coordinates": where}]),
                         str(uuid.uuid4())))
        conn.close()
        return case_id

    def cleanup(self) -> None:
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM planning_route_stops WHERE plan_id IN "
                        "(SELECT plan_id FROM planning_route_plans WHERE team_id = %s)", (self.id,))
            cur.execute("DELETE FROM planning_route_plans WHERE team_id = %s", (self.id,))
            cur.execute("DELETE FROM planning_visits WHERE team_id = %s", (self.id,))
            cur.execute("DELETE FROM planning_shifts WHERE team_id = %s", (self.id,))
            cur.execute("DELETE FROM streams_case_state WHERE case_id = ANY(%s)", (self.cases,))
        conn.close()


@pytest.fixture
def team(database_url):
    made = Team(database_url)
    yield made
    made.cleanup()


def event(name: str, key: str, payload: dict) -> dict:
    return {"event_id": str(uuid.uuid4()), "event_name": name, "schema_version": 1,
            "occurred_at": NOW.isoformat(), "producing_system": "field-app", "correlation_id": str(uuid.uuid4()),
            "causation_id": None, "ordering_key": key, "payload": payload}


def shift(team: Team, worker: str, available: bool = True, day: date = DAY) -> dict:
    payload = {"worker_id": worker, "team_id": team.id, "shift_date": day.isoformat(), "available": available,
               "starts": "08:00", "ends": "16:00", "base": BODO, "skills": ["guidance"]}
    return event("field_worker.shift_scheduled", f"{worker}:{day.isoformat()}", payload)


def followup(team: Team, case_id: str, kind: str = "mobile_visit", location_kind: str = "home") -> dict:
    return {"followup_id": str(uuid.uuid4()), "followup_version": 1, "kind": kind, "case_id": case_id,
            "point_id": None, "team_id": team.id, "owner_unit": "1804", "location_kind": location_kind,
            "appointment_day": None, "travel_minutes": 20.0, "reasons": [], "decided_at": NOW.isoformat(),
            "causation_id": str(uuid.uuid4()), "correlation_id": None, "caused_by": "appointment.requested"}


def visit_event(name: str, visit: str, case_id: str, worker: str, **extra) -> dict:
    return event(name, case_id, {"case_id": case_id, "visit_id": visit, "worker_id": worker, **extra})


def messages(values):
    return [Message(v if isinstance(v, bytes) else json.dumps(v).encode(), Origin("in", 0, 100 + i, b"k"))
            for i, v in enumerate(values)]


def make_agent(database_url, clock=lambda: NOW, **config):
    sent = []

    async def send(outputs):
        sent.extend(outputs)

    agent = PlannerAgent(database_url, send, PlannerConfig(consumer=f"test-{uuid.uuid4().hex[:8]}", **config),
                         route_plans_topic="plans", dead_letter_topic="dead", followups_topic="followups",
                         backoff=Backoff(first_s=0.01, max_s=0.02), clock=clock)
    return agent, sent


def route_events(sent):
    return [json.loads(o.value) for o in sent if o.topic == "plans"]


def visit_rows(database_url, team: Team) -> dict[str, tuple]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT case_id, visit_id, status, reason, lon, next_offer FROM planning_visits WHERE team_id = %s",
                    (team.id,))
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    conn.close()
    return rows


def test_a_batch_plans_the_team_stores_routes_and_publishes_a_route_event(database_url, team):
    agent, sent = make_agent(database_url)
    cases = [team.case(PLACES[i]) for i in range(3)]
    protected = team.case(PLACES[3], protected="confidential")
    batch = messages([shift(team, team.workers[0]), shift(team, team.workers[1]),
                      *[followup(team, c) for c in cases], followup(team, protected),
                      followup(team, team.case(PLACES[4]), kind="office_appointment"), b"{broken",
                      {**followup(team, cases[1]), "team_id": None}])
    summary = asyncio.run(agent.process(batch))
    assert summary.outcomes == {"ok": 7, "unparseable": 1, "rejected": 1}
    assert [dict(o.headers)["dlq_outcome"] for o in sent if o.topic == "dead"] == [b"unparseable", b"rejected"]
    [planned] = route_events(sent)
    assert planned["event_name"] == "route.planned" and check(planned).ok, check(planned).problems
    assert [o.key for o in sent if o.topic == "plans"] == [team.id.encode()]
    assert b'"lon"' not in next(o.value for o in sent if o.topic == "plans")  # no coordinates leave the planner
    stops = [s for r in planned["payload"]["routes"] for s in r["stops"]]
    assert sorted(s["case_id"] for s in stops) == sorted(cases)
    rows = visit_rows(database_url, team)
    assert rows[protected][1:4] == ("escalated", "protected_address", None)  # no home location stored
    assert [u["case_id"] for u in planned["payload"]["unplanned"]] == []
    route = plans.worker_route(database_url, stops[0]["visit_id"] and _worker_of(planned, stops[0]), DAY)
    assert route is not None and [s.seq for s in route.stops] == list(range(1, len(route.stops) + 1))
    first = route.stops[0]
    assert first.lon is not None and first.purpose == "guidance" and first.status == "planned"
    assert first.eta.astimezone(OSLO).time() >= time(9)  # a home visit in working hours
    assert plans.visit_owner(database_url, first.visit_id) == route.worker_id
    assert plans.visit_owner(database_url, "no-such-visit") is None
    assert plans.worker_route(database_url, route.worker_id, DAY + timedelta(days=20)) is None


def test_visits_done_stay_fixed_and_a_failed_visit_is_offered_again(database_url, team):
    agent, sent = make_agent(database_url)
    cases = [team.case(p) for p in PLACES[:4]]
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), *[followup(team, c) for c in cases]])))
    route = plans.worker_route(database_url, team.workers[0], DAY)
    done, gone = route.stops[1], route.stops[2]
    sent.clear()
    later = make_agent(database_url, clock=lambda: datetime.combine(DAY, time(12), OSLO))[0]
    later.config, later.send = agent.config, agent.send
    asyncio.run(later.process(messages([
        visit_event("visit.started", done.visit_id, done.case_id, team.workers[0], started_at=NOW.isoformat()),
        visit_event("visit.completed", done.visit_id, done.case_id, team.workers[0], completed_at=NOW.isoformat()),
        visit_event("visit.failed", gone.visit_id, gone.case_id, team.workers[0], attempted_at=NOW.isoformat(),
                    reason="not_at_home")])))
    [changed] = route_events(sent)
    assert changed["event_name"] == "route.changed" and changed["payload"]["cause"] == "visit_failed"
    assert check(changed).ok, check(changed).problems
    again = plans.worker_route(database_url, team.workers[0], DAY)
    assert again.version == 2
    assert [(s.visit_id, s.fixed, s.status) for s in again.stops[:1]] == [(done.visit_id, True, "completed")]
    assert all(s.eta >= datetime.combine(DAY, time(12), OSLO) for s in again.stops[1:])
    assert gone.visit_id not in {s.visit_id for s in again.stops}  # offered again from tomorrow
    status = visit_rows(database_url, team)[gone.case_id]
    assert status[1] == "open" and status[4] == DAY + timedelta(days=1)


def test_a_worker_off_sick_hands_the_visits_to_the_others(database_url, team):
    agent, sent = make_agent(database_url)
    cases = [team.case(p) for p in PLACES[:3]]
    asyncio.run(agent.process(messages([shift(team, w) for w in team.workers] + [followup(team, c) for c in cases])))
    sick = next(w for w in team.workers if plans.worker_route(database_url, w, DAY).stops)
    well = next(w for w in team.workers if w != sick)
    sent.clear()
    asyncio.run(agent.process(messages([shift(team, sick, available=False)])))
    [changed] = route_events(sent)
    assert changed["payload"]["cause"] == "shift_changed"
    assert plans.worker_route(database_url, sick, DAY) is None
    assert len(plans.worker_route(database_url, well, DAY).stops) == 3


def test_unplanned_visits_are_escalated_after_the_wait(database_url, team):
    agent, sent = make_agent(database_url, escalate_after_days=0, max_route_minutes=120)
    far = team.case({"lon": 16.5, "lat": 68.4})  # Narvik area: out of reach of a 2-hour route from Bodø
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), followup(team, far)])))
    [planned] = route_events(sent)
    [unplanned] = planned["payload"]["unplanned"]
    assert unplanned["next_step"] == "escalate"
    assert visit_rows(database_url, team)[far][1] == "escalated"


def test_a_copy_in_the_same_batch_is_applied_once(database_url, team):
    agent, sent = make_agent(database_url)
    case = team.case(PLACES[0])
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), followup(team, case)])))
    stop = plans.worker_route(database_url, team.workers[0], DAY).stops[0]
    failed = visit_event("visit.failed", stop.visit_id, case, team.workers[0], attempted_at=NOW.isoformat(),
                         reason="not_at_home")
    summary = asyncio.run(agent.process(messages([failed, failed])))
    assert summary.outcomes == {"ok": 1, "duplicate": 1}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT attempts FROM planning_visits WHERE visit_id = %s", (stop.visit_id,))
        assert cur.fetchone() == (1,)
    conn.close()


def test_a_redelivered_batch_changes_nothing_but_sends_the_route_event_again(database_url, team):
    agent, sent = make_agent(database_url)
    batch = messages([shift(team, team.workers[0]), followup(team, team.case(PLACES[0]))])
    asyncio.run(agent.process(batch))
    summary = asyncio.run(agent.process(batch))
    assert summary.outcomes == {"duplicate": 2}
    assert [e["event_name"] for e in route_events(sent)] == ["route.planned", "route.changed"]
    assert len(plans.worker_route(database_url, team.workers[0], DAY).stops) == 1


def _worker_of(event: dict, stop: dict) -> str:
    return next(r["worker_id"] for r in event["payload"]["routes"] if stop in r["stops"])


def test_the_periodic_replan_offers_unplanned_visits_again_and_escalates_them_after_the_wait(database_url, team):
    days = {"now": NOW}
    agent, sent = make_agent(database_url, clock=lambda: days["now"], escalate_after_days=2)
    waiting = team.case(PLACES[0])
    thursday = DAY + timedelta(days=3)
    asyncio.run(agent.process(messages([shift(team, team.workers[0], day=thursday), followup(team, waiting)])))
    [planned] = route_events(sent)
    assert [(u["reason"], u["next_step"]) for u in planned["payload"]["unplanned"]] == [
        ("no_shift_in_window", "offer_again")]
    _, status, reason, _, next_offer = visit_rows(database_url, team)[waiting]
    assert (status, reason.split(":")[0], next_offer) == ("open", "no_shift_in_window", DAY + timedelta(days=1))
    sent.clear()
    days["now"] = NOW + timedelta(days=1)  # Tuesday: Thursday is now within the three-day horizon
    asyncio.run(agent.tick([team.id]))
    [first] = route_events(sent)  # Thursday's route is planned for the first time
    assert first["event_name"] == "route.planned" and first["payload"]["unplanned"] == []
    assert plans.worker_route(database_url, team.workers[0], thursday).stops[0].case_id == waiting
    sent.clear()
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:  # Thursday's shift is cancelled
        cur.execute("UPDATE planning_shifts SET available = false WHERE team_id = %s", (team.id,))
    conn.close()
    days["now"] = NOW + timedelta(days=2)
    asyncio.run(agent.tick([team.id]))
    [changed] = route_events(sent)
    assert changed["event_name"] == "route.changed" and changed["payload"]["cause"] == "daily"
    [escalated] = changed["payload"]["unplanned"]
    assert escalated["next_step"] == "escalate" and visit_rows(database_url, team)[waiting][1] == "escalated"


def test_a_closed_case_or_a_newer_follow_up_cancels_the_open_visit(database_url, team):
    agent, sent = make_agent(database_url)
    closing, moving = team.case(PLACES[0]), team.case(PLACES[1])
    first = followup(team, moving)
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), followup(team, closing), first])))
    assert len(plans.worker_route(database_url, team.workers[0], DAY).stops) == 2
    sent.clear()
    withdrawn = {**followup(team, closing, kind="withdrawn"), "team_id": None, "location_kind": None}
    again = followup(team, moving, location_kind="home")
    asyncio.run(agent.process(messages([withdrawn, again])))
    rows = _visits_of(database_url, team)
    assert rows[closing] == ("cancelled", f"the case was closed: follow-up {withdrawn['followup_id']}")
    assert rows[first["followup_id"]] == ("cancelled", f"superseded by follow-up {again['followup_id']}")
    route = plans.worker_route(database_url, team.workers[0], DAY)
    assert [s.visit_id for s in route.stops] == [again["followup_id"]]
    [changed] = route_events(sent)
    assert changed["payload"]["cause"] == "visit_requested" and check(changed).ok


def _visits_of(database_url, team: Team) -> dict[str, tuple[str, str]]:
    """(status, reason) by visit id, and by case id for cases with one visit."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT visit_id, case_id, status, reason FROM planning_visits WHERE team_id = %s", (team.id,))
        rows = cur.fetchall()
    conn.close()
    return {**{r[1]: (r[2], r[3]) for r in rows}, **{r[0]: (r[2], r[3]) for r in rows}}


def test_veiviser_field_route_prints_the_stored_route(database_url, team, capsys, monkeypatch):
    from veiviser.cli import main

    agent, _ = make_agent(database_url)
    case = team.case(PLACES[0])
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), followup(team, case)])))
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("TZ", "UTC")  # the machine's zone must not matter: a route is shown on Norwegian clocks
    time_module.tzset()
    try:
        main(["field", "route", team.workers[0], "--day", DAY.isoformat()])
    finally:
        monkeypatch.undo()
        time_module.tzset()
    out = capsys.readouterr().out
    assert case in out and "planned" in out and "guidance" in out
    [stop] = plans.worker_route(database_url, team.workers[0], DAY).stops
    assert f"{stop.eta.astimezone(OSLO):%H:%M}" in out and f"{stop.eta.astimezone(UTC):%H:%M}" not in out
    with pytest.raises(SystemExit) as missing:
        main(["field", "route", team.workers[0], "--day", "2031-01-01"])
    assert missing.value.code == 2 and "no route stored" in "".join(capsys.readouterr())


def test_a_worker_who_moves_team_gets_one_current_plan_for_the_day_in_the_new_team(database_url, team):
    other = Team(database_url)
    try:
        agent, sent = make_agent(database_url)
        worker = team.workers[0]
        first = asyncio.run(agent.process(messages([shift(team, worker), followup(team, team.case(PLACES[0]))])))
        assert first.outcomes == {"ok": 2}
        moved = {**shift(other, worker), "event_id": str(uuid.uuid4())}  # the same worker and day, another team
        second = asyncio.run(agent.process(messages([moved, followup(other, other.case(PLACES[1]))])))
        assert second.outcomes == {"ok": 2} and not [o for o in sent if o.topic == "dead"]
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT team_id, version FROM planning_route_plans WHERE worker_id = %s AND shift_date = %s "
                        "AND is_current", (worker, DAY))
            assert cur.fetchall() == [(other.id, 2)]
        conn.close()
    finally:
        other.cleanup()


def test_a_shift_ending_before_it_starts_is_dead_lettered_alone_and_the_team_is_planned(database_url, team):
    agent, sent = make_agent(database_url)
    cases = [team.case(p) for p in PLACES[:2]]
    bad = shift(team, team.workers[1])
    bad["payload"].update(starts="16:00", ends="08:00")
    summary = asyncio.run(agent.process(messages([shift(team, team.workers[0]), bad,
                                                  *[followup(team, c) for c in cases]])))
    assert summary.outcomes == {"ok": 3, "rejected": 1}
    [dead] = [o for o in sent if o.topic == "dead"]
    assert json.loads(dead.value)["event_id"] == bad["event_id"]
    assert b"payload.ends" in b" ".join(v for _, v in dead.headers)
    [planned] = route_events(sent)
    assert sorted(s["case_id"] for r in planned["payload"]["routes"] for s in r["stops"]) == sorted(cases)


def test_a_stored_shift_geo_refuses_is_left_out_and_the_rest_of_the_team_is_planned(database_url, team):
    agent, sent = make_agent(database_url)
    asyncio.run(agent.process(messages([shift(team, w) for w in team.workers])))
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:  # stored before the planner checked it
        cur.execute("UPDATE planning_shifts SET starts = '16:00', ends = '08:00' WHERE worker_id = %s",
                    (team.workers[1],))
    conn.close()
    sent.clear()
    case = team.case(PLACES[0])
    summary = asyncio.run(agent.process(messages([followup(team, case)])))
    assert summary.outcomes == {"ok": 1} and not [o for o in sent if o.topic == "dead"]
    [event] = route_events(sent)
    assert {r["worker_id"] for r in event["payload"]["routes"]} == {team.workers[0]}
    assert [s["case_id"] for r in event["payload"]["routes"] for s in r["stops"]] == [case]


def test_no_location_of_a_protected_person_reaches_the_visits_the_route_events_or_the_field_route(database_url, team):
    agent, sent = make_agent(database_url)
    open_case = team.case(PLACES[0])
    protected = [team.case(PLACES[1], protected="confidential", kind="work"),
                 team.case(PLACES[2], protected="strictly_confidential", kind="school"),
                 team.case(PLACES[3], protected="confidential", kind="home")]
    kinds = ["work", "school", "home"]
    asked = [followup(team, c, location_kind=k) for c, k in zip(protected, kinds, strict=True)]
    asyncio.run(agent.process(messages([shift(team, w) for w in team.workers] + [followup(team, open_case)] + asked)))
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT case_id, status, reason, lon, lat, followup::text FROM planning_visits "
                    "WHERE case_id = ANY(%s)", (protected,))
        rows = cur.fetchall()
    conn.close()
    assert sorted(r[0] for r in rows) == sorted(protected)
    for _case, status, reason, lon, lat, stored in rows:
        assert (status, reason, lon, lat) == ("escalated", "protected_address", None, None)
        assert '"lon"' not in stored and '"lat"' not in stored
    events = [o.value for o in sent if o.topic == "plans"]
    assert events and not any(c.encode() in v for c in protected for v in events)
    assert b'"lon"' not in b"".join(events)
    served = [s for w in team.workers if (r := plans.worker_route(database_url, w, DAY)) for s in r.stops]
    assert [s.case_id for s in served] == [open_case]  # what the field API serves holds none of theirs


def office_requests(sent) -> list[dict]:
    return [json.loads(o.value) | {"_key": o.key.decode()} for o in sent if o.topic == "followups"]


def test_every_escalation_becomes_one_office_appointment_request_on_the_followups_topic(database_url, team):
    agent, sent = make_agent(database_url, escalate_after_days=0, max_route_minutes=120)
    protected, far, refusing = (team.case(PLACES[0], protected="confidential"), team.case({"lon": 16.5, "lat": 68.4}),
                                team.case(PLACES[1]))
    asked = {c: followup(team, c) for c in (protected, far, refusing)}
    batch = messages([shift(team, team.workers[0]), *asked.values()])
    asyncio.run(agent.process(batch))
    requests = {r["case_id"]: r for r in office_requests(sent)}
    assert sorted(requests) == sorted([protected, far])
    for case, request in requests.items():
        visit = asked[case]["followup_id"]
        assert request["_key"] == case and request["kind"] == "office_appointment_requested"
        assert request["followup_id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{visit}:escalated"))
        assert (request["visit_id"], request["causation_id"]) == (visit, visit)
        assert (request["team_id"], request["owner_unit"], request["location_kind"]) == (team.id, "1804", None)
        assert b'"lon"' not in json.dumps(request).encode()
    assert requests[protected]["escalation_reason"] == "protected_address"
    assert requests[far]["escalation_reason"] == "out_of_reach"
    sent.clear()
    asyncio.run(agent.process(batch))  # redelivered: the requests were sent, none again
    assert office_requests(sent) == []
    stop = plans.worker_route(database_url, team.workers[0], DAY).stops[0]
    failed = visit_event("visit.failed", stop.visit_id, refusing, team.workers[0], attempted_at=NOW.isoformat(),
                         reason="refused")
    asyncio.run(agent.process(messages([failed])))
    [request] = office_requests(sent)
    assert (request["case_id"], request["causation_id"], request["escalation_reason"]) == (
        refusing, failed["event_id"], "visit_failed")
    assert request["reasons"] == ["visit failed: refused"]


def test_an_office_request_not_marked_sent_is_sent_again_with_the_same_id_and_the_planner_skips_its_own(
        database_url, team):
    agent, sent = make_agent(database_url)
    case = team.case(PLACES[0], protected="strictly_confidential", kind="work")
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), followup(team, case, location_kind="work")])))
    [first] = office_requests(sent)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:  # a crash after sending, before marking
        cur.execute("UPDATE planning_visits SET escalation_sent_at = NULL WHERE case_id = %s", (case,))
    conn.close()
    sent.clear()
    own = {k: v for k, v in first.items() if k != "_key"}
    summary = asyncio.run(agent.process(messages([own, shift(team, team.workers[0])])))
    assert summary.outcomes == {"skipped": 1, "ok": 1}
    [again] = office_requests(sent)
    assert again == first
    assert visit_rows(database_url, team)[case][1:3] == ("escalated", "protected_address")


def test_replanning_keeps_done_stops_at_the_times_the_worker_reported(database_url, team):
    agent, sent = make_agent(database_url)
    cases = [team.case(p) for p in PLACES[:3]]
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), *[followup(team, c) for c in cases]])))
    first, second = plans.worker_route(database_url, team.workers[0], DAY).stops[:2]
    started, finished = first.eta + timedelta(minutes=50), first.eta + timedelta(minutes=140)  # late and long
    begun = second.eta + timedelta(minutes=95)
    later = make_agent(database_url, clock=lambda: begun + timedelta(minutes=5))[0]
    later.config, later.send = agent.config, agent.send
    asyncio.run(later.process(messages([
        visit_event("visit.started", first.visit_id, first.case_id, team.workers[0], started_at=started.isoformat()),
        visit_event("visit.completed", first.visit_id, first.case_id, team.workers[0],
                    completed_at=finished.isoformat()),
        visit_event("visit.started", second.visit_id, second.case_id, team.workers[0], started_at=begun.isoformat())])))
    again = {s.visit_id: s for s in plans.worker_route(database_url, team.workers[0], DAY).stops}
    assert (again[first.visit_id].eta, again[first.visit_id].departure) == (started, finished)
    assert again[second.visit_id].eta == begun and again[second.visit_id].fixed
    assert again[second.visit_id].departure == begun + (second.departure - second.eta)  # as long as planned


def test_a_visit_event_for_an_unknown_visit_is_dead_lettered_with_the_reason_never_counted_ok(database_url, team):
    agent, sent = make_agent(database_url)
    case = team.case(PLACES[0])
    asyncio.run(agent.process(messages([shift(team, team.workers[0]), followup(team, case)])))
    sent.clear()
    stray = visit_event("visit.completed", f"{team.id}-no-such-visit", case, team.workers[0],
                        completed_at=NOW.isoformat())
    summary = asyncio.run(agent.process(messages([stray])))
    assert summary.outcomes == {"rejected": 1}
    [dead] = [o for o in sent if o.topic == "dead"]
    headers = dict(dead.headers)
    assert headers["dlq_outcome"] == b"rejected" and f"{team.id}-no-such-visit".encode() in headers["dlq_error"]
    assert json.loads(dead.value)["event_id"] == stray["event_id"]
    again = asyncio.run(agent.process(messages([stray])))  # a replay is judged again, not a duplicate
    assert again.outcomes == {"rejected": 1}


def test_a_worker_off_sick_mid_day_keeps_the_visits_done_and_the_one_under_way_is_offered_again(database_url, team):
    agent, sent = make_agent(database_url)
    cases = [team.case(p) for p in PLACES[:3]]
    sick, well = team.workers
    asyncio.run(agent.process(messages([shift(team, sick), *[followup(team, c) for c in cases]])))
    done, under_way, _ = plans.worker_route(database_url, sick, DAY).stops
    noon = datetime.combine(DAY, time(12), OSLO)
    later = make_agent(database_url, clock=lambda: noon)[0]
    later.config, later.send = agent.config, agent.send
    asyncio.run(later.process(messages([
        visit_event("visit.started", done.visit_id, done.case_id, sick, started_at=done.eta.isoformat()),
        visit_event("visit.completed", done.visit_id, done.case_id, sick, completed_at=done.departure.isoformat()),
        visit_event("visit.started", under_way.visit_id, under_way.case_id, sick, started_at=noon.isoformat()),
        shift(team, well)])))
    sent.clear()
    asyncio.run(later.process(messages([shift(team, sick, available=False)])))
    [changed] = route_events(sent)
    kept = plans.worker_route(database_url, sick, DAY)
    assert [(s.visit_id, s.fixed, s.status) for s in kept.stops] == [(done.visit_id, True, "completed")]
    assert {r["worker_id"]: [s["visit_id"] for s in r["stops"]] for r in changed["payload"]["routes"]}[sick] == [
        done.visit_id]
    taken = {s.visit_id for s in plans.worker_route(database_url, well, DAY).stops}
    assert under_way.visit_id in taken  # offered again the same day: the colleague takes it
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, worker_id, started_at FROM planning_visits WHERE visit_id = %s",
                    (under_way.visit_id,))
        assert cur.fetchone() == ("planned", well, None)
    conn.close()

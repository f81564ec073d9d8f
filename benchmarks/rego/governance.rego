# The 17 built-in rules written in Rego, as an OPA user would, for the peer
# comparison in benchmarks/peer.py. Input: the plan as benchmarks/peer.py
# exports it (entities by `kind:id`, references resolved to `kind:id` lists
# under `links`, derived dates precomputed). Each verdict is
# [rule, subject, group, related], as in benchmarks/reference.py.
package governance

import rego.v1

ents := input.entities

as_of := input.as_of

max_top := input.params.max_top

min_share := input.params.min_share

rank := {"P0": 4, "P1": 3, "P2": 2, "P3": 1}

waivable := {
	"outcome-single-owner", "decision-single-decider", "owner-active", "initiative-has-outcome",
	"top-priorities-limit", "priority-inversion", "ai-pilot-acceptable-use", "vendor-due-diligence",
	"initiative-approved-vendor", "ai-vendor-data-training", "retired-system-use",
	"restricted-data-review", "outcome-review-cadence", "sustainment-capacity",
}

of_kind(k) := {r | ents[r].kind == k}

outcomes := of_kind("Outcome")

initiatives := of_kind("Initiative")

links(r, name) := object.get(ents[r].links, name, [])

is_open(r) if not ents[r].status in {"done", "cancelled"}

is_active(r) if ents[r].status in {"approved", "in-progress", "paused"}

# One body, a default for a missing expiry: written as two bodies (one with
# `not ents[r].expires_on`), regopy took minutes for what this does in seconds.
current(r) if {
	ents[r].status in {"approved", "approved-with-conditions"}
	object.get(ents[r], "expires_on", "9999-12-31") >= as_of
}

period(r) := object.get(ents[r], "period", "unscheduled")

depends := {r: links(r, "depends_on") | ents[r]}

initiative_depends := {r: [d | some d in links(r, "depends_on")
		ents[d].kind == "Initiative"] | some r in initiatives}

# Everything each initiative reaches along depends_on, computed once per evaluation.
reach := {i: graph.reachable(depends, depends[i]) | some i in initiatives}

initiative_reach := {i: graph.reachable(initiative_depends, initiative_depends[i]) | some i in initiatives}

reached_systems(deps, r) := graph.reachable(deps, links(r, "uses"))

verdicts contains ["outcome-single-owner", o, null, sort(owners)] if {
	some o in outcomes
	not ents[o].status == "dropped"
	owners := links(o, "owner")
	count(owners) != 1
}

verdicts contains ["decision-single-decider", x, null, sort(deciders)] if {
	some x in outcomes | initiatives
	ents[x].has_decision
	deciders := links(x, "decision.decides")
	bad_deciders(deciders)
}

bad_deciders(deciders) if count(deciders) != 1

bad_deciders(deciders) if {
	some d in deciders
	ents[d].kind != "Person"
}

verdicts contains ["owner-active", x, null, sort(left)] if {
	some x, e in ents
	e.kind in {"Outcome", "Initiative", "System", "Vendor", "Waiver"}
	named := {p | some p in array.concat(links(x, "owner"), links(x, "decision.decides"))}
	left := {p | some p in named
		ents[p].kind == "Person"
		ents[p].status == "left"}
	count(left) > 0
}

verdicts contains ["initiative-has-outcome", i, null, []] if {
	some i in initiatives
	is_open(i)
	count(links(i, "contributes_to")) == 0
}

open_p0(p) := {i | some i in initiatives
		ents[i].priority == "P0"
		is_open(i)
		period(i) == p}

verdicts contains ["top-priorities-limit", null, p, sort(members)] if {
	some p in {period(i) | some i in initiatives
		ents[i].priority == "P0"
		is_open(i)}
	members := open_p0(p)
	count(members) > max_top
}

verdicts contains ["priority-inversion", i, null, sort(lower)] if {
	reaches := reach # bound once: regopy evaluates a rule again wherever it is referred to
	some i in initiatives
	is_open(i)
	mine := rank[ents[i].priority]
	lower := {d | some d in reaches[i]
		is_open(d)
		rank[ents[d].priority] < mine}
	count(lower) > 0
}

verdicts contains ["dependency-cycle", i, null, sort(members)] if {
	reaches := initiative_reach # bound once, as above
	some i in initiatives
	i in reaches[i]
	members := {j | some j in reaches[i]
		i in reaches[j]}
	i == min(members)
}

verdicts contains ["ai-pilot-acceptable-use", i, null, sort(reviews)] if {
	some i in initiatives
	ents[i].type == "ai-pilot"
	is_active(i)
	reviews := {r | some r in links(i, "reviewed_by")
		ents[r].type == "acceptable-use"}
	not any_current(reviews)
}

any_current(reviews) if {
	some r in reviews
	current(r)
}

verdicts contains ["vendor-due-diligence", v, null, []] if {
	some v in of_kind("Vendor")
	ents[v].status == "approved"
	not diligence_before_approval(v)
}

diligence_before_approval(v) if ents[v].due_diligence.completed <= ents[v].approved_on

verdicts contains ["initiative-approved-vendor", i, null, sort(bad)] if {
	some i in initiatives
	is_active(i)
	bad := {u | some u in links(i, "uses")
		ents[u].kind == "Vendor"
		ents[u].status != "approved"}
	count(bad) > 0
}

verdicts contains ["ai-vendor-data-training", v, null, sort(users)] if {
	some v in of_kind("Vendor")
	ents[v].ai == true
	users := {i | some i in links(v, "used_by")
		ents[i].kind == "Initiative"
		is_active(i)}
	count(users) > 0
	not ents[v].due_diligence.trains_on_customer_data == false
}

verdicts contains ["retired-system-use", i, null, sort(retired)] if {
	deps := depends # bound once, as above
	some i in initiatives
	is_open(i)
	retired := {s | some s in reached_systems(deps, i)
		ents[s].kind == "System"
		ents[s].lifecycle == "retired"}
	count(retired) > 0
}

verdicts contains ["restricted-data-review", i, null, sort(restricted)] if {
	deps := depends # bound once, as above
	some i in initiatives
	is_active(i)
	not reviewed_for_data(i)
	restricted := {s | some s in reached_systems(deps, i)
		ents[s].kind == "System"
		ents[s].data_classification == "restricted"}
	count(restricted) > 0
}

reviewed_for_data(i) if {
	some r in links(i, "reviewed_by")
	ents[r].type in {"security", "privacy"}
	current(r)
}

verdicts contains ["outcome-review-cadence", o, null, []] if {
	some o in outcomes
	ents[o].status == "active"
	ents[o].review_cadence
	not reviewed_in_time(o)
}

reviewed_in_time(o) if ents[o].review_due >= as_of

open_in(p) := {i | some i in initiatives
		is_open(i)
		period(i) == p}

verdicts contains ["sustainment-capacity", null, p, sort(members)] if {
	some p in {period(i) | some i in initiatives
		is_open(i)}
	members := open_in(p)
	total := sum([object.get(ents[i], "effort", 0) | some i in members])
	upkeep := sum([object.get(ents[i], "effort", 0) | some i in members
		ents[i].type in {"tech-debt", "sustainment"}])
	total > 0
	upkeep / total < min_share
}

verdicts contains ["waiver-expired", w, null, sort(links(w, "subjects"))] if {
	some w in of_kind("Waiver")
	ents[w].expires < as_of
}

verdicts contains ["waiver-not-allowed", w, null, sort(links(w, "subjects"))] if {
	some w in of_kind("Waiver")
	not allowed_waiver(w)
}

# Missing fields read as "" in one body: `ents[w].rule` and friends tested
# for presence one by one ran for over 200 s on the 1k plan in regopy.
allowed_waiver(w) if {
	object.get(ents[w], "rule", "") in waivable # every waivable rule is a rule
	trim_space(object.get(ents[w], "reason", "")) != ""
	object.get(ents[w], "expires", "") != ""
	count(links(w, "subjects")) > 0
}

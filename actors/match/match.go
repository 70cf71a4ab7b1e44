package match

import "math"

// Member is one player of a party ticket.
type Member struct {
	// ID is the caller's name for the player; the matcher only carries it.
	ID string
	// Rating is the player's own rating: the party's mean places the party,
	// the members' own ratings balance the teams.
	Rating float64
}

// Ticket is one queued unit as the matcher sees it, a solo player or a
// party: only what the rule needs, so the caller can build it cheaply from
// whatever it stores.
type Ticket struct {
	// ID is unique in the pool; it breaks ties between equal queue times so
	// the order is total and Form deterministic.
	ID string
	// Rating is a solo player's skill rating; it is ignored when Members is
	// set. Non-finite ratings never match.
	Rating float64
	// QueuedAtMs is the original enqueue time (unix ms). Older (smaller) is
	// served first; a requeued ticket keeps its original time and its place.
	QueuedAtMs int64
	// Members is nil for a solo player. For a party it lists every member
	// (the party's size is len(Members)); the party is rated at the mean of
	// its members' ratings and always lands whole on one team. A party
	// larger than Params.TeamSize never matches.
	Members []Member
	// LatencyMs[i] is the round trip in ms to region Params.Regions[i] (for
	// a party, its worst member's). A region past the end of the slice, or
	// a value that is negative, NaN or infinite, is unplayable. Read only
	// when Params.Regions is set.
	LatencyMs []float64
}

// Size returns the number of seats t takes: 1 for a solo player, the
// member count for a party.
func (t Ticket) Size() int {
	if len(t.Members) == 0 {
		return 1
	}
	return len(t.Members)
}

// UnitRating returns the rating t is placed at: Rating for a solo player,
// the mean of the members' ratings for a party.
func (t Ticket) UnitRating() float64 {
	if len(t.Members) == 0 {
		return t.Rating
	}
	return t.sum() / float64(len(t.Members)) // as prepare computes it
}

// sum returns the total of t's members' own ratings (Rating for a solo),
// what team balance adds up.
func (t Ticket) sum() float64 {
	if len(t.Members) == 0 {
		return t.Rating
	}
	s := 0.0
	for _, x := range t.Members {
		s += x.Rating
	}
	return s
}

// Params is the shape of a mode, its rating window and its regions, copied
// from the mode's config so this package does not depend on config.
type Params struct {
	// Teams is the number of teams in a match; TeamSize the seats in each.
	Teams, TeamSize int
	// InitialWindow is the spread a ticket accepts at enqueue,
	// WidenPerSecond how much it widens per second waited, and MaxWindow the
	// cap. All in rating points.
	InitialWindow, WidenPerSecond, MaxWindow float64
	// Regions lists the mode's regions in config order (which breaks ties
	// between equally fast regions); empty for a mode without regions.
	Regions []string
	// Latency is the rule that says where a ticket may play; read only
	// when Regions is set.
	Latency LatencyRule
	// Region is the region this Form call matches for, one of Regions:
	// each region's leader calls Form with its own. Ignored without Regions.
	Region string
}

// Group is one formed match, ready to be claimed and announced.
type Group struct {
	// Teams has len Params.Teams; each team lists tickets by their index in
	// the pool passed to Form, whole tickets whose sizes add up to exactly
	// Params.TeamSize (so TeamSize tickets when all are solo), in draft
	// order: the strongest first (a solo's rating, a party's members'
	// rating sum), older first on ties. A party's members all play on the
	// team that holds its ticket.
	Teams [][]int
	// Spread is max - min of the tickets' ratings (a party's at its mean),
	// recorded so the caller can observe matchd_match_rating_spread without
	// recomputing it.
	Spread float64
	// Region is the region the match is played in, the group's best common
	// region; "" for a mode without regions.
	Region string
	// LatencyMs is the worst member's latency to Region (for
	// matchd_match_latency_ms); 0 for a mode without regions.
	LatencyMs float64
}

// Window returns t's rating window at nowMs:
// min(InitialWindow + WidenPerSecond*secondsWaited, MaxWindow), with
// secondsWaited clamped at 0 so a clock skewed into the future never narrows
// a window below its initial value. It is exported so callers and tests share
// the exact formula the matcher uses.
func (p Params) Window(t Ticket, nowMs int64) float64 {
	return p.window(t.QueuedAtMs, nowMs)
}

func (p Params) window(queuedAtMs, nowMs int64) float64 {
	return min(p.InitialWindow+p.WidenPerSecond*waited(queuedAtMs, nowMs), p.MaxWindow)
}

// waited returns the seconds from queuedAtMs to nowMs, 0 if nowMs is earlier.
func waited(queuedAtMs, nowMs int64) float64 {
	if nowMs > queuedAtMs {
		return float64(nowMs-queuedAtMs) / 1000
	}
	return 0
}

// Size returns the number of seats in one match, Teams*TeamSize, or 0 when
// the shape is invalid; Form forms nothing for an invalid shape.
func (p Params) Size() int {
	if p.Teams < 1 || p.TeamSize < 1 || p.TeamSize > math.MaxInt32/p.Teams {
		return 0
	}
	return p.Teams * p.TeamSize
}

// Form partitions as many matches as the rule allows out of pool and returns
// them in the order they were formed (oldest anchor first). Groups name
// tickets by their index in pool; tickets not named stay queued. pool is not
// modified and its order does not matter (but for the indexes). With
// regions, Form matches for p.Region: it uses only the tickets playable
// there at nowMs and forms only the groups whose best common region it is.
//
// Form allocates its working buffers on every call; the queue actor's hot
// path should keep a Matcher instead.
func Form(pool []Ticket, p Params, nowMs int64) []Group {
	var m Matcher
	return m.Form(pool, p, nowMs)
}

package authz

import "strings"

// principalView is what a principal gets, precomputed: its groups and every
// role assignment that names it or one of them (its grants), by scope key.
type principalView struct {
	groups []string // lower-case, transitive
	grants map[string][]*boundAssignment
	// keyLengths has bit n set when some key of grants is n bytes long
	// (n < 512; longer keys set bit 511), so that a check skips the map
	// lookup of most ancestor scopes.
	keyLengths [8]uint64
}

func (v *principalView) mayHoldKeyOfLength(n int) bool {
	n = min(n, 511)
	return v.keyLengths[n/64]&(1<<(n%64)) != 0
}

func (v *principalView) noteKeyLength(n int) {
	n = min(n, 511)
	v.keyLengths[n/64] |= 1 << (n % 64)
}

var emptyView = &principalView{}

// view returns the principal's precomputed view, building it on first
// use. Principals the state never names share an empty view and are not
// remembered, so that unknown IDs cannot grow the cache.
func (s *Snapshot) view(principalID string) *principalView {
	key := strings.ToLower(principalID)
	if v, ok := s.views.Load(key); ok {
		return v.(*principalView)
	}
	if len(s.bySubject[key]) == 0 && len(s.groupsOf[key]) == 0 {
		return emptyView
	}
	v, _ := s.views.LoadOrStore(key, s.buildView(key))
	return v.(*principalView)
}

// buildView expands the principal's groups once and indexes every
// assignment to it or to them by scope key.
func (s *Snapshot) buildView(principal string) *principalView {
	v := &principalView{groups: s.transitiveGroups(principal), grants: map[string][]*boundAssignment{}}
	for _, subject := range append([]string{principal}, v.groups...) {
		for _, i := range s.bySubject[subject] {
			a := &s.assignments[i]
			v.grants[a.scopeKey] = append(v.grants[a.scopeKey], a)
			v.noteKeyLength(len(a.scopeKey))
		}
	}
	return v
}

// transitiveGroups lists every group the member is in, directly or
// through other groups, breadth first; cycles are harmless.
func (s *Snapshot) transitiveGroups(member string) []string {
	seen := map[string]bool{member: true}
	var out []string
	queue := []string{member}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, g := range s.groupsOf[next] {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
				queue = append(queue, g)
			}
		}
	}
	return out
}

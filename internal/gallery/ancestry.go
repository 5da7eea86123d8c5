package gallery

import (
	"fmt"
	"time"
)

// ancestry indexes versions (of any definitions) by ID and by parent.
type ancestry struct {
	versions []ImageVersion
	byID     map[string]int
	children map[string][]int
}

func newAncestry(versions []ImageVersion) *ancestry {
	a := &ancestry{versions: versions, byID: make(map[string]int, len(versions)), children: map[string][]int{}}
	for i := range versions {
		a.byID[idKey(versions[i].ID)] = i
		if p := versions[i].Properties.ParentVersionID; p != "" {
			a.children[idKey(p)] = append(a.children[idKey(p)], i)
		}
	}
	return a
}

func (a *ancestry) find(id string) (int, error) {
	i, ok := a.byID[idKey(id)]
	if !ok {
		return -1, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return i, nil
}

// descendants returns the indexes of every version built, directly or
// not, from versions[root], breadth first; cycles are cut.
func (a *ancestry) descendants(root int) []int {
	seen := map[int]bool{root: true}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range a.children[idKey(a.versions[cur].ID)] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// ancestors returns the indexes of the parent chain, nearest first, as
// far as it is among the versions; cycles are cut.
func (a *ancestry) ancestors(i int) []int {
	seen := map[int]bool{i: true}
	var out []int
	for {
		p, ok := a.byID[idKey(a.versions[i].Properties.ParentVersionID)]
		if !ok || seen[p] {
			return out
		}
		seen[p] = true
		out = append(out, p)
		i = p
	}
}

func (a *ancestry) pick(idx []int) []ImageVersion {
	out := make([]ImageVersion, len(idx))
	for k, i := range idx {
		out[k] = a.versions[i]
	}
	return out
}

// Descendants returns the versions built from the version with ID id,
// directly or through other versions, nearest generations first. Versions
// may belong to any definitions; parents are linked by parentVersionId.
func Descendants(versions []ImageVersion, id string) ([]ImageVersion, error) {
	a := newAncestry(versions)
	i, err := a.find(id)
	if err != nil {
		return nil, err
	}
	return a.pick(a.descendants(i)), nil
}

// Ancestors returns the parent chain of the version with ID id, nearest
// first, as far as the chain is among versions.
func Ancestors(versions []ImageVersion, id string) ([]ImageVersion, error) {
	a := newAncestry(versions)
	i, err := a.find(id)
	if err != nil {
		return nil, err
	}
	return a.pick(a.ancestors(i)), nil
}

// Revoke revokes the version with ID id from at (now when at is earlier:
// revocations are never backdated; a later at schedules the revocation)
// and, with cascade, its descendants, and returns the changed versions,
// the target first. Precedence follows HCP Packer: a descendant's own
// revocation is kept, and among inherited ones the earliest wins. A version
// already revoked at now cannot be revoked again; a scheduled one is
// rescheduled.
func Revoke(versions []ImageVersion, id string, at time.Time, reason string, cascade bool, now time.Time) ([]ImageVersion, error) {
	a := newAncestry(versions)
	i, err := a.find(id)
	if err != nil {
		return nil, err
	}
	target := a.versions[i]
	if target.Revoked(now) {
		return nil, fmt.Errorf("%w: image version %s has been revoked since %s", ErrState, target.ID, target.Properties.Revocation.RevokedAt.UTC().Format(time.RFC3339))
	}
	if at.Before(now) {
		at = now
	}
	target.Properties.Revocation = &Revocation{RevokedAt: at, Reason: reason}
	changed := []ImageVersion{target}
	if !cascade {
		return changed, nil
	}
	for _, d := range a.descendants(i) {
		v := a.versions[d]
		if r := v.Properties.Revocation; r != nil && (r.CascadedFrom == "" || !at.Before(r.RevokedAt)) {
			continue
		}
		v.Properties.Revocation = &Revocation{RevokedAt: at, Reason: "inherited from " + target.Name + ": " + reason, CascadedFrom: target.ID}
		changed = append(changed, v)
	}
	return changed, nil
}

// Restore lifts the revocation (in force or scheduled) of the version with
// ID id and the revocations its descendants inherited from it, and
// returns the changed versions, the target first. An inherited revocation
// is lifted by restoring the ancestor it came from, and no version is
// restored while one of its ancestors is revoked.
func Restore(versions []ImageVersion, id string, now time.Time) ([]ImageVersion, error) {
	a := newAncestry(versions)
	i, err := a.find(id)
	if err != nil {
		return nil, err
	}
	target := a.versions[i]
	r := target.Properties.Revocation
	switch {
	case r == nil:
		return nil, fmt.Errorf("%w: image version %s is not revoked", ErrState, target.ID)
	case r.CascadedFrom != "":
		return nil, fmt.Errorf("%w: the revocation of %s is inherited from %s; restore that version instead", ErrState, target.ID, r.CascadedFrom)
	}
	for _, p := range a.ancestors(i) {
		if anc := a.versions[p]; anc.Properties.Revocation != nil {
			return nil, fmt.Errorf("%w: ancestor %s of %s is revoked; restore the ancestor first", ErrState, anc.ID, target.ID)
		}
	}
	target.Properties.Revocation = nil
	changed := []ImageVersion{target}
	for _, d := range a.descendants(i) {
		v := a.versions[d]
		if r := v.Properties.Revocation; r != nil && idKey(r.CascadedFrom) == idKey(target.ID) {
			v.Properties.Revocation = nil
			changed = append(changed, v)
		}
	}
	return changed, nil
}

// AncestryStatus says whether a version's parent is still current (after
// HCP Packer's ancestry statuses).
type AncestryStatus string

// The ancestry statuses.
const (
	UpToDate     AncestryStatus = "UpToDate"
	Outdated     AncestryStatus = "Outdated"
	Undetermined AncestryStatus = "Undetermined"
)

// Ancestry is the parent status of a version.
type Ancestry struct {
	Status AncestryStatus `json:"status"`
	Parent string         `json:"parent,omitempty"`
	// Newer is the highest newer usable version of the parent's definition
	// when Status is Outdated.
	Newer string `json:"newer,omitempty"`
	// ParentRevoked reports that the parent itself is revoked at now.
	ParentRevoked bool   `json:"parentRevoked,omitempty"`
	Reason        string `json:"reason"`
}

// CheckAncestry says whether v is outdated: its parent's definition has a
// version higher than the parent that is neither revoked at now nor
// deleted. versions must include the parent's definition's versions.
func CheckAncestry(v ImageVersion, versions []ImageVersion, now time.Time) Ancestry {
	parentID := v.Properties.ParentVersionID
	out := Ancestry{Status: Undetermined, Parent: parentID}
	if parentID == "" {
		out.Reason = "no parent version is recorded"
		return out
	}
	parent, ok := findVersion(versions, parentID)
	if !ok {
		out.Reason = "the parent version is not in the gallery"
		return out
	}
	pv, ok := parseVersion(parent.Name)
	if !ok {
		out.Reason = "the parent's name is not a Major.Minor.Patch version"
		return out
	}
	out.ParentRevoked = parent.Revoked(now)
	newer, found := newestAbove(versions, definitionKey(parent.ID), pv, now)
	if !found {
		out.Status, out.Reason = UpToDate, "the parent "+parent.Name+" is the newest usable version of its definition"
		return out
	}
	out.Status, out.Newer = Outdated, newer.ID
	out.Reason = fmt.Sprintf("the parent's definition has a newer version %s than the parent %s", newer.Name, parent.Name)
	return out
}

func findVersion(versions []ImageVersion, id string) (ImageVersion, bool) {
	k := idKey(id)
	for i := range versions {
		if idKey(versions[i].ID) == k {
			return versions[i], true
		}
	}
	return ImageVersion{}, false
}

// newestAbove returns the highest version of definition defKey above floor
// that is neither revoked at now nor deleted.
func newestAbove(versions []ImageVersion, defKey string, floor Version, now time.Time) (ImageVersion, bool) {
	best, bestV := -1, floor
	for i := range versions {
		w := &versions[i]
		v, ok := parseVersion(w.Name)
		if !ok || v.Compare(bestV) <= 0 || definitionKey(w.ID) != defKey || w.Revoked(now) || w.Deleted() {
			continue
		}
		best, bestV = i, v
	}
	if best < 0 {
		return ImageVersion{}, false
	}
	return versions[best], true
}
